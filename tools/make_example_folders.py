"""Write example folders for docs/custom_dataset.md: five coast classes.

Usage::

    python tools/make_example_folders.py --out data/coast [--num-source 12]
        [--num-target 12] [--num-val 4] [--size 64 96] [--seed 0]

A labelled source (``source/images/*.jpg``, ``source/labels/*_mask.png``),
an unlabelled target (``target/train/*.jpg``) and a labelled target split
(``target/val/{images,labels}``); classes sky, sea, sand, rock, boat. See
:mod:`mmseg_fdacl.demo.custom_folders`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg_fdacl.demo.custom_folders import (  # noqa: E402
    EXAMPLE_CLASSES, write_example_folders)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description='Write example source/target folders with five classes.')
    parser.add_argument('--out', default='data/coast')
    parser.add_argument('--num-source', type=int, default=12)
    parser.add_argument('--num-target', type=int, default=12)
    parser.add_argument('--num-val', type=int, default=4)
    parser.add_argument('--size', type=int, nargs=2, default=(64, 96),
                        metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    dirs = write_example_folders(args.out, args.num_source, args.num_target,
                                 args.num_val, tuple(args.size), args.seed)
    print(f'classes: {" ".join(EXAMPLE_CLASSES)}')
    for key, path in dirs.items():
        print(f'{key:>13}: {path}')


if __name__ == '__main__':
    main()
