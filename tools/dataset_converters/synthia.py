"""Convert SYNTHIA-RAND-CITYSCAPES class ids to Cityscapes train ids.

Writes ``GT/LABELS/*_labelTrainIds.png`` next to each 16-bit
``GT/LABELS/*.png`` (the 16 classes SYNTHIA shares with Cityscapes as their
train ids, every other id as 255) and ``class_stats.json`` in DATA_ROOT, in
parallel and resumably (a killed run continues), and prints the per-class
pixel table.

Example::

    python tools/dataset_converters/synthia.py data/synthia --nproc 8
"""
import argparse
import os.path as osp

from mmseg_fdacl.datasets.class_stats import format_class_stats
from mmseg_fdacl.datasets.synthia import convert_synthia_labels


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert SYNTHIA-RAND-CITYSCAPES labels to Cityscapes '
        'train ids (*_labelTrainIds.png) and write per-image class '
        'statistics (class_stats.json).')
    parser.add_argument(
        'data_root', help='SYNTHIA root holding RGB/ and GT/LABELS/')
    parser.add_argument(
        '--nproc', type=int, default=1, help='number of worker processes')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.nproc < 1:
        raise SystemExit(f'--nproc must be >= 1, got {args.nproc}')
    stats = convert_synthia_labels(args.data_root, nproc=args.nproc)
    print(format_class_stats(stats))
    print(f'\nConverted {stats["num_images"]} label maps in '
          f'{osp.join(args.data_root, "GT", "LABELS")}.')
    print(f'Class statistics: {osp.join(args.data_root, "class_stats.json")}')


if __name__ == '__main__':
    main()
