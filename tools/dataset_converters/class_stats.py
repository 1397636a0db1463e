"""Write the class statistics rare class sampling reads, for any dataset.

Counts the pixels of each class in every label map of the dataset a config
names (by default the source of a ``UDADataset`` training set, else the
training set), in parallel and resumably (a killed run continues), writes
``class_stats.json`` (default: in that dataset's ``data_root``, where
``rare_class_sampling=dict(class_stats='class_stats.json')`` looks) and
prints the per-class pixel table.

Example::

    python tools/dataset_converters/class_stats.py \\
        configs/fdacl/deeplabv2_r101-d8_daformer-recipe_1xb2-40k_gta5-512x512_cityscapes-512x512.py \\
        --nproc 8
"""
import argparse
import os.path as osp
from typing import Optional

from mmengine.config import Config, DictAction
from mmseg.utils import register_all_modules

from mmseg_fdacl.datasets.class_stats import (STATS_FILE,
                                              dataset_class_stats,
                                              format_class_stats)

UDA_SOURCE = 'train_dataloader.dataset.source'
TRAIN_SET = 'train_dataloader.dataset'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write per-image class pixel counts (class_stats.json) '
        'of a dataset named by a config, and print the per-class table.')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--dataset',
        default=None,
        help=f'dotted key of the dataset in the config (default: '
        f'{UDA_SOURCE} for a UDADataset, else {TRAIN_SET})')
    parser.add_argument(
        '--out',
        default=None,
        help=f'output .json file, or a folder to hold {STATS_FILE} '
        "(default: the dataset's data_root)")
    parser.add_argument(
        '--nproc', type=int, default=1, help='number of worker processes')
    parser.add_argument(
        '--min-pixels',
        type=int,
        default=3000,
        help='threshold shown in the table (images holding more pixels of '
        'a class are its rare-class-sampling candidates)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        f'{UDA_SOURCE}.data_root=data/gta5')
    return parser.parse_args()


def dataset_config(cfg: Config, key: Optional[str] = None) -> dict:
    """The dataset config at dotted ``key`` (default: see ``--dataset``).

    Raises:
        SystemExit: Naming the key when it is not a dataset config.
    """
    if key is None:
        train = cfg.get('train_dataloader', {}).get('dataset', {})
        key = UDA_SOURCE if train.get('type') == 'UDADataset' else TRAIN_SET
    node = cfg.to_dict()
    for part in key.split('.'):
        if not isinstance(node, dict) or part not in node:
            raise SystemExit(f'--dataset {key!r}: the config has no key '
                             f'{part!r} there.')
        node = node[part]
    if not isinstance(node, dict) or 'type' not in node:
        raise SystemExit(f'--dataset {key!r} is not a dataset config (a dict '
                         f'with "type"), got {node!r}.')
    return node


def main() -> None:
    args = parse_args()
    if args.nproc < 1:
        raise SystemExit(f'--nproc must be >= 1, got {args.nproc}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    # mmseg_fdacl (imported above) registers its datasets; MMSeg's own.
    register_all_modules(init_default_scope=True)
    dataset = dataset_config(cfg, args.dataset)
    out = args.out
    if out is not None and not out.endswith('.json'):
        out = osp.join(out, STATS_FILE)
    if out is None:
        out = osp.join(dataset.get('data_root') or '', STATS_FILE)
    stats = dataset_class_stats(dataset, out, nproc=args.nproc)
    print(format_class_stats(stats, args.min_pixels))
    print(f'Class statistics: {out}')


if __name__ == '__main__':
    main()
