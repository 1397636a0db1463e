"""Convert DeepLabV2 ResNet-101 reference checkpoints to MMSeg checkpoints.

The key layout is ``model/deeplab.py`` of YanchaoYang/FDA (shared by
AdaptSegNet, ADVENT and DACS); the work is done by
:mod:`mmseg_fdacl.converters.deeplabv2_weights`. Nothing is downloaded.

Examples::

    # ImageNet initialization -> backbone weights for `model.pretrained`
    python tools/model_converters/deeplabv2_reference.py init \
        checkpoints/DeepLab_resnet_pretrained_init-f81d91e8.pth \
        checkpoints/deeplabv2_init_mmseg.pth

    # FDA's released GTA5 -> Cityscapes model -> whole MMSeg checkpoint
    python tools/model_converters/deeplabv2_reference.py fda \
        checkpoints/gta2city_LB_0_01.pth checkpoints/fda_LB_0_01_mmseg.pth
    python tools/test.py configs/fdacl/deeplabv2_gta2cs_source-only.py \
        checkpoints/fda_LB_0_01_mmseg.pth
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmseg_fdacl.converters.deeplabv2_weights import (  # noqa: E402
    CITYSCAPES_CLASSES, ReferenceCheckpointError, convert_checkpoint)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments without the program name;
            None reads ``sys.argv``.

    Returns:
        argparse.Namespace: ``mode``, ``src``, ``dst``, ``force``,
        ``keep_classifier``, ``num_classes``.
    """
    parser = argparse.ArgumentParser(
        description='Convert DeepLabV2 ResNet-101 reference checkpoints '
        '(YanchaoYang/FDA model/deeplab.py layout) to MMSeg checkpoints.')
    sub = parser.add_subparsers(dest='mode', required=True)
    init = sub.add_parser(
        'init',
        help='DeepLab_resnet_pretrained_init-f81d91e8.pth (Scale.* keys) -> '
        'backbone weights for model.pretrained')
    fda = sub.add_parser(
        'fda',
        help='an FDA release (gta2city_LB_0_01.pth, ...) -> a whole '
        'EncoderDecoder checkpoint for tools/test.py / load_from')
    for p in (init, fda):
        p.add_argument('src', help='reference checkpoint (.pth)')
        p.add_argument('dst', help='MMSeg checkpoint to write')
        p.add_argument(
            '--force', action='store_true', help='overwrite DST if it exists')
        p.add_argument(
            '--num-classes',
            type=int,
            default=CITYSCAPES_CLASSES,
            help='classes of the head (model.decode_head.num_classes); '
            f'default: {CITYSCAPES_CLASSES}')
    init.add_argument(
        '--keep-classifier',
        action='store_true',
        help='keep Scale.layer5 as decode_head.aspp_modules.* when its class '
        'count equals --num-classes; DST then holds backbone.* and '
        'decode_head.* (for load_from, not model.pretrained)')
    args = parser.parse_args(argv)
    if not hasattr(args, 'keep_classifier'):
        args.keep_classifier = False
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Run the conversion; exits with a message on a refused checkpoint.

    Args:
        argv (list[str], optional): See :func:`parse_args`.

    Raises:
        SystemExit: With the error message for a missing, existing or
            refused file.
    """
    args = parse_args(argv)
    try:
        report = convert_checkpoint(
            args.mode,
            args.src,
            args.dst,
            force=args.force,
            keep_classifier=args.keep_classifier,
            num_classes=args.num_classes)
    except (ReferenceCheckpointError, FileNotFoundError, FileExistsError,
            IsADirectoryError, ValueError) as err:
        raise SystemExit(f'error: {err}') from err
    print(f'Wrote {report.num_tensors} tensors to {report.dst}.')
    if report.dropped:
        print(f'Dropped the {report.source_classes}-class classifier '
              f'({len(report.dropped)} tensors: Scale.layer5.*), as FDA does '
              'for a 19-class head.')
    if report.filled_num_batches_tracked:
        print(f'Filled {report.filled_num_batches_tracked} missing BatchNorm '
              'num_batches_tracked buffers with 0.')
    if report.usage.startswith('model.pretrained'):
        print('Use it as: --cfg-options model.pretrained=' + report.dst)
    else:
        print('Use it as: python tools/test.py '
              'configs/fdacl/deeplabv2_gta2cs_source-only.py ' + report.dst)


if __name__ == '__main__':
    main()
