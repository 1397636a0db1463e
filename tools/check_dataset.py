"""Check every dataset of a config and name each bad file.

Usage::

    python tools/check_dataset.py CONFIG [--nproc N] [--pseudo-label-dir DIR]
        [--out report.json] [--max-faults 20] [--cfg-options k=v ...]

Reads every image and label of the config's train (a UDA config's source and
target, with its pseudo labels), val and test datasets the way the loaders
do, and reports each unreadable or truncated image or label, image/label
size mismatch, label value that is neither a class nor the ignore index,
multi-channel label, empty or missing split and missing pseudo label, with
its file; then the pixels per class. Exits with status 1 when anything is
found. The library is :mod:`mmseg_fdacl.datasets.dataset_check`.
"""
import argparse
import json
import os.path as osp
import sys
from dataclasses import asdict

from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg_fdacl.datasets.dataset_check import (  # noqa: E402
    check_config, format_report)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Check the images and labels of every dataset of a '
        'config; exit status 1 when a fault is found.')
    parser.add_argument('config', help='training or test config')
    parser.add_argument('--nproc', type=int, default=1,
                        help='processes per dataset (default 1)')
    parser.add_argument('--pseudo-label-dir', default=None,
                        help='check this pseudo-label folder for the UDA '
                        "target (default: the config's pseudo_label_dir)")
    parser.add_argument('--out', default=None,
                        help='write every fault and count as JSON here')
    parser.add_argument('--max-faults', type=int, default=20,
                        help='faults printed (default 20)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    reports = check_config(cfg, nproc=args.nproc,
                           pseudo_label_dir=args.pseudo_label_dir,
                           progress_file=sys.stderr)
    print(f'Dataset check of {args.config}')
    print(format_report(reports, max_faults=args.max_faults))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump([dict(asdict(r), pixel_counts=None if r.pixel_counts is
                            None else r.pixel_counts.tolist())
                       for r in reports], f, indent=1)
    return 1 if any(r.faults for r in reports) else 0


if __name__ == '__main__':
    sys.exit(main())
