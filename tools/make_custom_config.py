"""Write configs that adapt from your labelled folder to your unlabelled one.

Usage::

    python tools/make_custom_config.py NAME \\
        --classes sky sea sand rock boat \\
        --palette 135,206,235 0,60,140 238,214,175 110,110,110 220,40,40 \\
        --source-images data/coast/source/images \\
        --source-labels data/coast/source/labels \\
        --target-images data/coast/target/train \\
        [--val-images DIR --val-labels DIR] \\
        [--img-suffix .jpg] [--seg-map-suffix _mask.png] \\
        [--target-img-suffix .jpg] [--crop-size H W] [--resize W H] \\
        [--out configs/custom/NAME]

Writes ``NAME_data.py`` (both domains as CustomSegDataset, paired by
UDADataset) and the leaves ``deeplabv2_NAME_stage1.py``,
``deeplabv2_NAME_stage2.py`` and ``deeplabv2_NAME_dacs.py`` (see
``docs/custom_dataset.md``). The library is
:mod:`mmseg_fdacl.datasets.custom_config`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg_fdacl.datasets.custom_config import (  # noqa: E402
    parse_palette, write_custom_configs)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write the data fragment and the stage-1, stage-2 and '
        'DACS configs for your own source and target folders.')
    parser.add_argument('name', help='short name, e.g. coast (file names)')
    parser.add_argument('--classes', nargs='+', required=True,
                        help='class names in train-id order')
    parser.add_argument('--palette', nargs='+', required=True,
                        help='one colour per class: R,G,B or #RRGGBB')
    parser.add_argument('--source-images', required=True)
    parser.add_argument('--source-labels', required=True,
                        help='label maps: single-channel PNGs of train ids')
    parser.add_argument('--target-images', required=True,
                        help='unlabelled target images')
    parser.add_argument('--val-images', default=None,
                        help='labelled target images for validation')
    parser.add_argument('--val-labels', default=None)
    parser.add_argument('--img-suffix', default='.png')
    parser.add_argument('--seg-map-suffix', default='.png')
    parser.add_argument('--target-img-suffix', default=None,
                        help='default: --img-suffix')
    parser.add_argument('--crop-size', type=int, nargs=2, default=(512, 512),
                        metavar=('H', 'W'))
    parser.add_argument('--resize', type=int, nargs=2, default=None,
                        metavar=('W', 'H'),
                        help='resize every image to fit W x H first')
    parser.add_argument('--ignore-index', type=int, default=255)
    parser.add_argument('--pretrained',
                        default='checkpoints/deeplabv2_init_mmseg.pth',
                        help='ImageNet weights of the DeepLabV2 trunk')
    parser.add_argument('--out', default=None,
                        help='output folder (default configs/custom/NAME)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        paths = write_custom_configs(
            args.name, args.classes, parse_palette(args.palette),
            args.source_images, args.source_labels, args.target_images,
            val_images=args.val_images, val_labels=args.val_labels,
            img_suffix=args.img_suffix, seg_map_suffix=args.seg_map_suffix,
            target_img_suffix=args.target_img_suffix,
            crop_size=tuple(args.crop_size),
            resize=None if args.resize is None else tuple(args.resize),
            ignore_index=args.ignore_index, pretrained=args.pretrained,
            out_dir=args.out)
    except ValueError as err:
        raise SystemExit(f'error: {err}')
    for key, path in paths.items():
        print(f'{key:>7}: {path}')


if __name__ == '__main__':
    main()
