"""Generate the embedded two-domain street-scene data set.

Writes a game-like source in the GTA5 layout (``OUT/gta5``) and a camera-like
target in the Cityscapes layout (``OUT/cityscapes``), then prints the per-class
pixel frequencies of each split (also saved as ``OUT/synthetic_stats.json``).

Example::

    python tools/make_synthetic_uda.py --out data/synthetic --num-source 400 \\
        --num-target-train 400 --num-target-val 100 --size 128 256 --seed 0
    python tools/dataset_converters/gta5.py data/synthetic/gta5
"""
import argparse
import time

from mmseg_fdacl.demo.synthetic import format_class_table, generate_uda_data


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Render the two-domain (GTA5-like -> Cityscapes-like) '
        'street-scene data set.')
    parser.add_argument('--out', default='data/synthetic', help='output root')
    parser.add_argument('--num-source', type=int, default=400)
    parser.add_argument('--num-target-train', type=int, default=400)
    parser.add_argument('--num-target-val', type=int, default=100)
    parser.add_argument(
        '--size', type=int, nargs=2, default=(256, 512), metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--nproc', type=int, default=1)
    parser.add_argument(
        '--source-train-ids',
        action='store_true',
        help='also write gta5/labels/*_labelTrainIds.png (normally made by '
        'tools/dataset_converters/gta5.py)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.time()
    try:
        stats = generate_uda_data(
            args.out,
            num_source=args.num_source,
            num_target_train=args.num_target_train,
            num_target_val=args.num_target_val,
            size=tuple(args.size),
            seed=args.seed,
            nproc=args.nproc,
            source_train_ids=args.source_train_ids,
            progress=True)
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    print(f'\nWrote {stats["source_root"]} and {stats["target_root"]} '
          f'in {time.time() - start:.1f} s.')
    print(format_class_table(stats, 'Pixel frequency per class:'))


if __name__ == '__main__':
    main()
