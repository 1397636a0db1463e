"""Write the FDA figure: source/target in each other's style + spectra.

Examples::

    python tools/visualization/fda_figure.py SRC_IMG TRG_IMG --out fig.png \\
        --betas 0.01 0.05 0.09
    # first source and target image of the embedded demo data
    python tools/visualization/fda_figure.py --demo-root data/synthetic \\
        --out fda.png
"""
import argparse
import glob
import os.path as osp
import sys
from typing import Tuple

import mmcv

from mmseg_fdacl.demo.figures import save_fda_figure


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw the Fourier domain adaptation figure.')
    parser.add_argument('src', nargs='?', help='source image')
    parser.add_argument('trg', nargs='?', help='target image')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument(
        '--betas', type=float, nargs='+', default=[0.01, 0.05, 0.09])
    parser.add_argument(
        '--demo-root',
        help='data root written by tools/make_synthetic_uda.py; takes the '
        'first image of gta5/images and of cityscapes/leftImg8bit/train')
    parser.add_argument('--dpi', type=int, default=100)
    parser.add_argument(
        '--no-zoom', action='store_true', help='show whole spectra')
    args = parser.parse_args(argv)
    if args.demo_root is None and (args.src is None or args.trg is None):
        parser.error('give SRC_IMG and TRG_IMG, or --demo-root')
    return args


def demo_pair(root: str) -> Tuple[str, str]:
    """First source and first target image of a demo data root."""
    pairs = []
    for pattern in ('gta5/images/*.png', 'cityscapes/leftImg8bit/train/**/*'):
        files = sorted(
            p for p in glob.glob(osp.join(root, pattern), recursive=True)
            if osp.isfile(p))
        if not files:
            raise FileNotFoundError(
                f'no image matches {osp.join(root, pattern)!r}; generate the '
                f'demo data with tools/make_synthetic_uda.py --out {root}')
        pairs.append(files[0])
    return pairs[0], pairs[1]


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.demo_root is not None:
        src_path, trg_path = demo_pair(args.demo_root)
    else:
        src_path, trg_path = args.src, args.trg
    images = []
    for path in (src_path, trg_path):
        if not osp.isfile(path):
            raise FileNotFoundError(f'image {path!r} does not exist')
        images.append(mmcv.imread(path))  # BGR
    fig = save_fda_figure(
        images[0], images[1], args.out, args.betas, dpi=args.dpi,
        zoom=not args.no_zoom)
    print(f'wrote {args.out} ({fig.shape[1]}x{fig.shape[0]}) from '
          f'{src_path} and {trg_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
