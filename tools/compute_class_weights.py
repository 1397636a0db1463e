"""Write cross-entropy class weights computed from ``class_stats.json``.

Usage::

    python tools/compute_class_weights.py data/gta5/class_stats.json \
        --method sqrt_inverse --out data/gta5/class_weights.json

The output is a JSON list, usable as ``loss_decode=dict(
type='CrossEntropyLoss', class_weight='data/gta5/class_weights.json')``.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg_fdacl.models.losses.class_weights import (  # noqa: E402
    NORMALIZE_MODES, WEIGHT_METHODS, class_weights_from_stats)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Class weights for CrossEntropyLoss from the GTA5 '
        "converter's class_stats.json.")
    parser.add_argument('stats', help='path to class_stats.json')
    parser.add_argument('--num-classes', type=int, default=19)
    parser.add_argument('--method', default='inverse', choices=WEIGHT_METHODS)
    parser.add_argument(
        '--normalize',
        default='mean',
        choices=[m for m in NORMALIZE_MODES if m is not None] + ['none'],
        help="'none' leaves the weights unnormalized")
    parser.add_argument(
        '--out',
        default=None,
        help='output JSON (default: class_weights.json next to the stats)')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    normalize = None if args.normalize == 'none' else args.normalize
    weights = class_weights_from_stats(
        args.stats,
        num_classes=args.num_classes,
        method=args.method,
        normalize=normalize)
    out = args.out or osp.join(
        osp.dirname(osp.abspath(args.stats)), 'class_weights.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(weights, f, indent=1)
    print(f'{args.method} weights ({normalize} normalized) -> {out}')
    print(', '.join(f'{w:.4g}' for w in weights))
    return out


if __name__ == '__main__':
    main()
