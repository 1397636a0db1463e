"""Convert GTA5 label ids to Cityscapes train ids.

Writes ``labels/*_labelTrainIds.png`` next to each ``labels/*.png`` (the 19
evaluated classes as 0..18, every other id as 255) and ``class_stats.json``
in DATA_ROOT with per-image and total pixel counts per class (resumable:
a killed run continues), and prints the per-class pixel table.

Example::

    python tools/dataset_converters/gta5.py data/gta5 --nproc 8
"""
import argparse
import os.path as osp

from mmseg_fdacl.datasets.class_stats import format_class_stats
from mmseg_fdacl.datasets.gta5 import convert_gta5_labels


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert GTA5 label ids to train ids (*_labelTrainIds.png)'
        ' and write per-image class statistics (class_stats.json).')
    parser.add_argument(
        'data_root', help='GTA5 root holding images/ and labels/')
    parser.add_argument(
        '--nproc', type=int, default=1, help='number of worker processes')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.nproc < 1:
        raise SystemExit(f'--nproc must be >= 1, got {args.nproc}')
    stats = convert_gta5_labels(args.data_root, nproc=args.nproc)
    print(format_class_stats(stats))
    total = sum(stats['pixel_counts']) + stats['ignored_pixels']
    share = 100.0 * stats['ignored_pixels'] / max(total, 1)
    print(f'\nConverted {stats["num_images"]} label maps in '
          f'{osp.join(args.data_root, "labels")}.')
    print(f'Pixels mapped to 255 (ignored): {stats["ignored_pixels"]} of '
          f'{total} ({share:.2f}%).')
    print(f'Class statistics: {osp.join(args.data_root, "class_stats.json")}')


if __name__ == '__main__':
    main()
