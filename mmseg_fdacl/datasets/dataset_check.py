"""Walk every dataset of a config and report each bad file.

:func:`check_config` finds the datasets of a training config (train, or a
UDA config's source and target with their pseudo labels; val; test), reads
every image and label the way the loaders do, and reports, each with its
file: unreadable or truncated images and labels, image/label size
mismatches, label values that are neither a class nor the ignore index,
multi-channel labels, empty or missing splits, missing pseudo labels. It also
counts the pixels of each class. ``tools/check_dataset.py`` is its command
line; :func:`format_report` prints the one-screen summary.
"""
import copy
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_fdacl.utils import pseudo_label_path
from mmseg_fdacl.utils.progress import track_parallel_progress, track_progress
from .checks import label_value_message

__all__ = [
    'Fault', 'DatasetReport', 'config_datasets', 'check_sample',
    'check_dataset', 'check_config', 'format_report'
]


@dataclass
class Fault:
    """One problem, with the file it is in.

    Attributes:
        role (str): Which dataset, e.g. ``'train/source'``.
        kind (str): ``'unreadable image'``, ``'unreadable label'``,
            ``'size mismatch'``, ``'label values'``, ``'label channels'``,
            ``'missing pseudo label'``, ``'empty split'`` or ``'dataset'``.
        path (str): The file (or folder) at fault.
        message (str): What is wrong and what to do.
    """
    role: str
    kind: str
    path: str
    message: str


@dataclass
class DatasetReport:
    """The result of checking one dataset.

    Attributes:
        role (str): E.g. ``'train/source'``, ``'val'``, ``'val+test'``.
        dataset_type (str): The dataset class.
        folder (str): Its image folder.
        num_samples (int): Samples listed.
        classes (tuple[str]): Class names.
        labelled (bool): Whether the samples have label maps.
        pseudo (bool): Whether those are pseudo labels.
        pixel_counts (np.ndarray, optional): Pixels per class over the label
            maps (pseudo labels for a target with a pseudo-label folder).
        ignored_pixels (int): Pixels at the ignore index.
        faults (list[Fault]): Everything found.
    """
    role: str
    dataset_type: str
    folder: str = ''
    num_samples: int = 0
    classes: Tuple[str, ...] = ()
    labelled: bool = False
    pseudo: bool = False
    pixel_counts: Optional[np.ndarray] = None
    ignored_pixels: int = 0
    faults: List[Fault] = field(default_factory=list)


def _unwrap(role: str, ds: Any) -> List[Tuple[str, dict, Optional[str]]]:
    if not isinstance(ds, dict):
        return []
    if 'source' in ds and 'target' in ds:
        return (_unwrap(f'{role}/source', ds['source']) + [
            (f'{role}/target', ds['target'], ds.get('pseudo_label_dir'))])
    if isinstance(ds.get('datasets'), (list, tuple)):
        out = []
        for i, sub in enumerate(ds['datasets']):
            out += _unwrap(f'{role}/{i}', sub)
        return out
    if isinstance(ds.get('dataset'), dict):
        return _unwrap(role, ds['dataset'])
    return [(role, ds, None)]


def config_datasets(cfg: Config) -> List[Tuple[str, dict, Optional[str]]]:
    """The datasets of a config: ``(role, dataset config, pseudo-label dir)``.

    Train (a UDA config's ``source`` and ``target``, concatenations and
    repeats unwrapped), val and test; a test set identical to the val set is
    listed once as ``'val+test'``.

    Args:
        cfg (Config): A training or test config.

    Returns:
        list[tuple[str, dict, str | None]]: Roles, dataset configs, and the
        target's ``pseudo_label_dir`` (None elsewhere).
    """
    out = []
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        ds = loader.get('dataset')
        if split == 'test' and out and ds == cfg.get(
                'val_dataloader', {}).get('dataset'):
            out = [(r.replace('val', 'val+test', 1) if r.startswith('val')
                    else r, d, p) for r, d, p in out]
            continue
        out += _unwrap(split, ds)
    return out


def _read_pil(path: str) -> Tuple[Optional[Tuple[int, int]], str]:
    """(h, w) after a full decode with PIL, or None and why."""
    try:
        with Image.open(path) as img:
            img.load()
            return (img.size[1], img.size[0]), ''
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError
            ) as err:
        return None, f'{type(err).__name__}: {err}'


def _read_label(path: str) -> Tuple[Optional[np.ndarray], str]:
    """The label map as MMSeg's LoadAnnotations decodes it, or None and why."""
    size, why = _read_pil(path)
    if size is None:
        return None, why
    with open(path, 'rb') as f:
        label = mmcv.imfrombytes(f.read(), flag='unchanged', backend='cv2')
    if label is None:
        return None, 'OpenCV cannot decode it'
    return label.squeeze(), ''


def check_sample(task: Dict[str, Any]) -> Tuple[List[Tuple[str, str, str]],
                                                 Optional[np.ndarray]]:
    """Check one image and its label (or pseudo label).

    Args:
        task (dict): ``img_path``; ``seg_map_path`` (None: no label);
            ``what`` ('label map' or 'pseudo label'); ``reduce_zero_label``;
            ``label_map``; ``num_classes``; ``ignore_index``.

    Returns:
        tuple: ``(faults, counts)``: faults as ``(kind, path, message)``, and
        the 256-bin histogram of the label values (None without a readable
        label).
    """
    faults = []
    img_path, seg_path = task['img_path'], task.get('seg_map_path')
    what = task.get('what', 'label map')
    if not osp.isfile(img_path):
        faults.append(('unreadable image', img_path, 'the file is missing'))
        img_size = None
    else:
        img_size, why = _read_pil(img_path)
        if img_size is None:
            faults.append(('unreadable image', img_path,
                           f'cannot decode it ({why}); the file is '
                           'truncated or corrupt: restore it or remove it '
                           'from the split'))
    if seg_path is None:
        return faults, None
    if not osp.isfile(seg_path):
        kind = 'missing pseudo label' if what == 'pseudo label' else \
            'unreadable label'
        fix = ('run tools/generate_pseudo_labels.py on this target set'
               if what == 'pseudo label' else
               'restore it or check seg_map_suffix and data_prefix')
        faults.append((kind, seg_path,
                       f'the {what} of {img_path!r} is missing; {fix}'))
        return faults, None
    label, why = _read_label(seg_path)
    if label is None:
        faults.append(('unreadable label', seg_path,
                       f'cannot decode the {what} ({why}); the file is '
                       'truncated or corrupt: restore it or re-run the '
                       'converter'))
        return faults, None
    if label.ndim != 2:
        faults.append(('label channels', seg_path,
                       f'the {what} has shape {label.shape}; labels must be '
                       'single-channel PNGs of train ids (a colour-coded '
                       'label must be converted to ids with its palette)'))
        return faults, None
    if img_size is not None and tuple(label.shape) != img_size:
        faults.append((
            'size mismatch', seg_path,
            f'the {what} is {label.shape[0]}x{label.shape[1]} (h x w) but '
            f'its image {img_path!r} is {img_size[0]}x{img_size[1]}; '
            're-export the pair or resize the label (nearest neighbour)'))
    label = label.astype(np.uint8)
    if task.get('reduce_zero_label'):
        label = label.copy()
        label[label == 0] = 255
        label = label - 1
        label[label == 254] = 255
    if task.get('label_map'):
        mapped = label.copy()
        for old, new in task['label_map'].items():
            mapped[label == old] = new
        label = mapped
    counts = np.bincount(label.ravel(), minlength=256)
    n, ignore = task['num_classes'], task['ignore_index']
    bad = {v: int(c) for v, c in enumerate(counts)
           if c and v >= n and v != ignore}
    if bad:
        faults.append(('label values', seg_path,
                       label_value_message(seg_path, bad, n, ignore, what,
                                           in_report=True)))
    return faults, counts


def check_dataset(role: str,
                  ds_cfg: dict,
                  pseudo_label_dir: Optional[str] = None,
                  nproc: int = 1,
                  progress_file: Any = None) -> DatasetReport:
    """Build one dataset from its config and check every sample.

    Args:
        role (str): E.g. ``'train/source'``, for the report.
        ds_cfg (dict): The dataset config.
        pseudo_label_dir (str, optional): Check this target's pseudo labels
            in this folder (instead of its labels). Default: None.
        nproc (int): Processes. Default: 1.
        progress_file (file, optional): Where the progress bar goes.

    Returns:
        DatasetReport: Counts and faults.
    """
    kind = ds_cfg.get('type', '?')
    kind = kind if isinstance(kind, str) else kind.__name__
    report = DatasetReport(role=role, dataset_type=kind)
    try:
        ds = DATASETS.build(dict(copy.deepcopy(ds_cfg), lazy_init=True))
        report.folder = ds.data_prefix.get('img_path') or ds.data_root or ''
        ds.full_init()
    except Exception as err:  # any build error is a finding to report
        path = report.folder or ds_cfg.get('data_root') or ''
        empty = isinstance(err, FileNotFoundError) or 'empty' in str(err)
        report.faults.append(Fault(role, 'empty split' if empty else
                                   'dataset', str(path),
                                   f'{type(err).__name__}: {err}'))
        return report
    report.num_samples = len(ds)
    report.classes = tuple(ds.metainfo.get('classes') or ())
    if report.num_samples == 0:
        report.faults.append(Fault(role, 'empty split', report.folder,
                                   'no samples found; check data_root, '
                                   'data_prefix and img_suffix'))
        return report
    ignore = getattr(ds, 'ignore_index', 255)
    tasks = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        task = dict(img_path=info['img_path'],
                    seg_map_path=info.get('seg_map_path'),
                    reduce_zero_label=info.get('reduce_zero_label', False),
                    label_map=info.get('label_map'),
                    num_classes=len(report.classes), ignore_index=ignore)
        if pseudo_label_dir is not None:
            task.update(
                seg_map_path=pseudo_label_path(info['img_path'],
                                               report.folder,
                                               pseudo_label_dir),
                what='pseudo label', reduce_zero_label=False, label_map=None)
        tasks.append(task)
    desc = f'check {role}'
    results = (track_parallel_progress(check_sample, tasks, nproc, desc,
                                       chunksize=8, file=progress_file)
               if nproc > 1 else
               track_progress(check_sample, tasks, desc, file=progress_file))
    total = np.zeros(256, np.int64)
    for faults, counts in results:
        report.faults += [Fault(role, *f) for f in faults]
        if counts is not None:
            total += counts
    report.labelled = any(t['seg_map_path'] for t in tasks)
    report.pseudo = pseudo_label_dir is not None
    if report.labelled:
        report.pixel_counts = total[:len(report.classes)].copy()
        report.ignored_pixels = int(total[ignore]) if ignore < 256 else 0
    return report


def check_config(cfg: Config,
                 nproc: int = 1,
                 pseudo_label_dir: Optional[str] = None,
                 progress_file: Any = None) -> List[DatasetReport]:
    """Check every dataset of ``cfg``.

    Args:
        cfg (Config): The config (its ``custom_imports`` are imported).
        nproc (int): Processes per dataset. Default: 1.
        pseudo_label_dir (str, optional): A pseudo-label folder to check
            for the UDA target, overriding the config's
            ``pseudo_label_dir``. Default: None.
        progress_file (file, optional): Where the progress bars go.

    Returns:
        list[DatasetReport]: One per dataset, in :func:`config_datasets`
        order.
    """
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg['custom_imports'])
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    reports = []
    for role, ds_cfg, pl_dir in config_datasets(cfg):
        if role.endswith('/target') and pseudo_label_dir is not None:
            pl_dir = pseudo_label_dir
        if pl_dir is not None and not osp.isdir(pl_dir):
            report = check_dataset(role, ds_cfg, None, nproc, progress_file)
            report.faults.append(Fault(
                role, 'missing pseudo label', pl_dir,
                'the pseudo-label folder does not exist; run '
                'tools/generate_pseudo_labels.py with a stage-1 checkpoint'))
        else:
            report = check_dataset(role, ds_cfg, pl_dir, nproc,
                                   progress_file)
        reports.append(report)
    return reports


def _count(n: float) -> str:
    for unit, div in (('G', 1e9), ('M', 1e6), ('k', 1e3)):
        if n >= div:
            return f'{n / div:.1f}{unit}'
    return str(int(n))


def format_report(reports: Sequence[DatasetReport],
                  max_faults: int = 20) -> str:
    """The one-screen summary: datasets, pixels per class, faults.

    Args:
        reports (Sequence[DatasetReport]): From :func:`check_config`.
        max_faults (int): Faults listed (the rest are counted).

    Returns:
        str: The text to print.
    """
    lines = [f'{"dataset":<16} {"type":<22} {"samples":>7} {"labels":>7} '
             f'{"faults":>6}  folder']
    for r in reports:
        labels = 'pseudo' if r.pseudo else 'yes' if r.labelled else 'no'
        lines.append(f'{r.role:<16} {r.dataset_type:<22} {r.num_samples:>7} '
                     f'{labels:>7} {len(r.faults):>6}  {r.folder}')
    labelled = [r for r in reports if r.pixel_counts is not None]
    if labelled:
        classes = max((r.classes for r in labelled), key=len)
        width = max([len(c) for c in classes] + [7])
        lines += ['', 'Pixels per class (share of the labelled pixels):',
                  ' ' * width + ''.join(f' {r.role:>18}' for r in labelled)]
        for i, name in enumerate(list(classes) + ['ignored']):
            cells = []
            for r in labelled:
                valid = max(int(r.pixel_counts.sum()), 1)
                n = r.ignored_pixels if name == 'ignored' else (
                    int(r.pixel_counts[i]) if i < len(r.pixel_counts) else 0)
                share = '' if name == 'ignored' else \
                    f' ({100 * n / valid:4.1f}%)'
                cells.append(f' {_count(n) + share:>18}')
            lines.append(f'{name:<{width}}' + ''.join(cells))
    faults = [f for r in reports for f in r.faults]
    if faults:
        lines += ['', f'{len(faults)} fault(s):']
        lines += [f'[{f.role}] {f.kind}: {f.path}: {f.message}'
                  for f in faults[:max_faults]]
        if len(faults) > max_faults:
            lines.append(f'... and {len(faults) - max_faults} more (all of '
                         'them with --out FILE.json)')
    else:
        lines += ['', 'No fault found.']
    return '\n'.join(lines)
