"""Write the configs that adapt from a user's labelled source folder to an
unlabelled target folder: a data fragment and three leaves.

:func:`write_custom_configs` (command line: ``tools/make_custom_config.py``)
writes, into one folder,

* ``<name>_data.py``: both domains as :class:`CustomSegDataset` (classes,
  palette, folders, suffixes), paired by :class:`UDADataset`, with
  :class:`SafeLoadAnnotations` checking every source label against the
  class count; validation on a labelled target split when there is one;
* ``deeplabv2_<name>_stage1.py``: stage 1 of the method
  (``configs/_base_/uda/method-stage1-gray-entropy.py``);
* ``deeplabv2_<name>_stage2.py``: stage 2
  (``configs/_base_/uda/method-stage2-fda-cl.py``), its pseudo labels made
  by PseudoLabelHook from the stage-1 checkpoint;
* ``deeplabv2_<name>_dacs.py``: the DACS online recipe
  (``configs/_base_/uda/dacs.py``).

The leaves inherit the project's method blocks and schedules by relative
paths, so they follow the project's recipes; only the data and the class
count are the user's. See ``docs/custom_dataset.md``.
"""
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

from .custom import check_metainfo

__all__ = ['write_custom_configs', 'parse_palette', 'CONFIGS_ROOT']

#: The repository's configs/ folder (the leaves' bases are relative to it).
CONFIGS_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
_NAME_RE = re.compile(r'^[a-z][a-z0-9-]*$')
_HEADER = ('# Written by tools/make_custom_config.py (docs/custom_dataset.md'
           '); edit freely.\n')


def parse_palette(text: Sequence[str]) -> List[List[int]]:
    """``['128,64,128', '0,0,142']`` (or ``'#804080'``) -> ``[[r, g, b], ...]``.

    Raises:
        ValueError: Naming the entry that is not a colour.
    """
    out = []
    for item in text:
        item = item.strip()
        try:
            if item.startswith('#') and len(item) == 7:
                rgb = [int(item[i:i + 2], 16) for i in (1, 3, 5)]
            else:
                rgb = [int(v) for v in item.split(',')]
        except ValueError:
            rgb = []
        if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
            raise ValueError(f'palette entry {item!r} is not a colour; write '
                             'R,G,B with ints 0..255 or #RRGGBB.')
        out.append(rgb)
    return out


def _py(value, level: int = 0, width: int = 76) -> str:
    """Python source of ``value`` at nesting ``level``: dicts as
    ``dict(k=v)``, one item a line when the one-line form is wider than
    ``width`` columns."""
    pad = ' ' * 4 * (level + 1)
    if isinstance(value, (dict, list)):
        if isinstance(value, dict):
            items = [f'{k}={_py(v, level + 1)}' for k, v in value.items()]
            opening, closing = 'dict(', ')'
        else:
            items = [_py(v, level + 1) for v in value]
            opening, closing = '[', ']'
        flat = opening + ', '.join(items) + closing
        if len(flat) + 4 * level <= width and '\n' not in flat:
            return flat
        if isinstance(value, dict):
            return opening + '\n' + ',\n'.join(pad + i for i in items) + \
                closing
        return opening + '\n' + ',\n'.join(pad + i for i in items) + \
            '\n' + ' ' * 4 * level + closing
    if isinstance(value, _Var):
        return value.name
    return repr(value)


class _Var:
    """A reference to a variable of the config file."""

    def __init__(self, name: str) -> None:
        self.name = name


def _root_and_prefix(images: str,
                     labels: Optional[str]) -> Tuple[str, Dict[str, str]]:
    """``data_root`` (the folders' common parent, where the class
    statistics go) and ``data_prefix`` relative to it."""
    dirs = [d.rstrip('/\\') for d in (images, labels) if d]
    try:
        root = osp.commonpath(dirs) if len(dirs) > 1 else osp.dirname(dirs[0])
    except ValueError:  # absolute and relative mixed
        root = ''
    if root in dirs:  # labels inside the image folder (or the reverse)
        root = osp.dirname(root)
    rel = [osp.relpath(d, root) if root else d for d in dirs]
    prefix = dict(img_path=rel[0])
    if labels:
        prefix['seg_map_path'] = rel[1]
    return root, prefix


def _data_fragment(name: str, classes: Sequence[str],
                   palette: List[List[int]], source_images: str,
                   source_labels: str, target_images: str,
                   val_images: Optional[str], val_labels: Optional[str],
                   img_suffix: str, seg_map_suffix: str,
                   target_img_suffix: str, crop_size: Tuple[int, int],
                   resize: Optional[Tuple[int, int]],
                   ignore_index: int) -> str:
    resize_t = [] if resize is None else [
        dict(type='Resize', scale=tuple(resize), keep_ratio=True)]
    crop = dict(type='RandomCrop', crop_size=_Var('crop_size'))
    flip = dict(type='RandomFlip', prob=0.5)
    load = dict(type='LoadImageFromFile')
    pack = dict(type='PackSegInputs')

    def dataset(images, labels, suffix, pipeline):
        root, prefix = _root_and_prefix(images, labels)
        ds = dict(type='CustomSegDataset', metainfo=_Var('custom_metainfo'),
                  data_root=root, data_prefix=prefix, img_suffix=suffix)
        if labels:
            ds['seg_map_suffix'] = seg_map_suffix
        ds.update(ignore_index=ignore_index, pipeline=_Var(pipeline))
        return ds

    def assign(var, value):
        return f'{var} = {_py(value, width=76 - len(var) - 3)}\n'

    palette_lines = ''.join(f'        {list(c)!r},  # {n}\n'
                            for n, c in zip(classes, palette))
    parts = [
        _HEADER,
        f'# Data of {name!r}: a labelled source folder and an unlabelled '
        'target folder\n# with their own classes and palette, paired by '
        'UDADataset. Label maps are\n# single-channel PNGs of train ids '
        f'0..{len(classes) - 1}, {ignore_index} = ignore; '
        'SafeLoadAnnotations\n# names any source file with another value. '
        'Check every file with\n#   python tools/check_dataset.py '
        'THIS_CONFIG\n',
        f'num_classes = {len(classes)}\n'
        f'custom_metainfo = dict(\n    classes={tuple(classes)!r},\n'
        f'    palette=[\n{palette_lines}    ])\n'
        f'crop_size = {tuple(crop_size)!r}  # (h, w) of the training crops\n',
        assign('source_train_pipeline', [
            load, dict(type='SafeLoadAnnotations', num_classes=_Var(
                'num_classes'), ignore_index=ignore_index), *resize_t,
            dict(crop, cat_max_ratio=0.75), flip, pack]),
        '# Unlabelled target images; stage 2 reads its pseudo labels right '
        'after the\n# image, so crops and flips move both together.\n' +
        assign('target_train_pipeline', [load, *resize_t, crop, flip, pack])
        + assign('target_train_pipeline_pseudo_labels', [
            load, dict(type='LoadPseudoLabel'), *resize_t, crop, flip,
            pack]),
        '# Pseudo labels are predicted on the whole (resized) image.\n' +
        assign('pseudo_label_pipeline', [load, *resize_t, pack]) +
        assign('test_pipeline', [load, *resize_t,
                                 dict(type='LoadAnnotations'), pack]),
        assign('source_dataset', dataset(source_images, source_labels,
                                         img_suffix,
                                         'source_train_pipeline')) +
        assign('target_dataset', dataset(target_images, None,
                                         target_img_suffix,
                                         'target_train_pipeline')),
        'train_dataloader = dict(\n    batch_size=1,\n    num_workers=2,\n'
        '    persistent_workers=True,\n'
        "    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),\n"
        "    dataset=dict(\n        type='UDADataset',\n"
        '        source=source_dataset,\n        target=target_dataset,\n'
        "        pairing='random',\n        seed=0,\n"
        '        pseudo_label_dir=None))\n',
    ]
    if val_images:
        parts.append(
            '# Validation and test: the labelled target split.\n' +
            assign('val_dataset', dataset(val_images, val_labels,
                                          target_img_suffix,
                                          'test_pipeline')) +
            'val_dataloader = dict(\n    batch_size=1,\n    num_workers=2,\n'
            '    persistent_workers=True,\n'
            "    sampler=dict(type='DefaultSampler', shuffle=False),\n"
            '    dataset=val_dataset)\n'
            'test_dataloader = val_dataloader\n'
            "val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])\n"
            'test_evaluator = val_evaluator\n')
    parts.append(
        '# Terms that use no parameter in an iteration must not stop DDP.\n'
        "model_wrapper_cfg = dict(\n    type='MMDistributedDataParallel', "
        'find_unused_parameters=True)\n')
    return '\n'.join(parts)


_NO_VAL = (
    '# No labelled target split was given: no validation (the last '
    'checkpoint is\n# the result; tools/infer.py shows its predictions).\n'
    'val_dataloader = None\nval_cfg = None\nval_evaluator = None\n'
    'test_dataloader = None\ntest_cfg = None\ntest_evaluator = None\n'
    'default_hooks = dict(checkpoint=dict(save_best=None))\n')


def _leaf(comment: str, bases: Sequence[str], body: str, has_val: bool,
          pretrained: Optional[str]) -> str:
    base_list = ',\n'.join(f'    {b!r}' for b in bases)
    return (
        f'{_HEADER}{comment}_base_ = [\n{base_list},\n]\n'
        "custom_imports = dict(imports=['mmseg_fdacl'], "
        'allow_failed_imports=False)\n'
        "default_scope = 'mmseg'\n"
        f'{body.format(pretrained=pretrained)}'
        f"{'' if has_val else _NO_VAL}")


def write_custom_configs(name: str,
                         classes: Sequence[str],
                         palette: Sequence[Sequence[int]],
                         source_images: str,
                         source_labels: str,
                         target_images: str,
                         *,
                         val_images: Optional[str] = None,
                         val_labels: Optional[str] = None,
                         img_suffix: str = '.png',
                         seg_map_suffix: str = '.png',
                         target_img_suffix: Optional[str] = None,
                         crop_size: Tuple[int, int] = (512, 512),
                         resize: Optional[Tuple[int, int]] = None,
                         ignore_index: int = 255,
                         pretrained: Optional[str] = (
                             'checkpoints/deeplabv2_init_mmseg.pth'),
                         out_dir: Optional[str] = None,
                         work_dir_root: str = 'work_dirs') -> Dict[str, str]:
    """Write the data fragment and the stage-1, stage-2 and DACS leaves.

    Args:
        name (str): Short dataset name (lower case, digits, ``-``), used in
            the file names, e.g. ``'coast'``.
        classes (Sequence[str]): Class names in train-id order.
        palette (Sequence[Sequence[int]]): One ``[r, g, b]`` per class.
        source_images (str): Folder of the labelled source images.
        source_labels (str): Folder of their label maps (same relative
            names, ``seg_map_suffix`` instead of ``img_suffix``).
        target_images (str): Folder of the unlabelled target images.
        val_images (str, optional): Labelled target images for validation.
        val_labels (str, optional): Their label maps (required with
            ``val_images``).
        img_suffix (str): Source image suffix. Default: '.png'.
        seg_map_suffix (str): Label suffix (source and val). Default: '.png'.
        target_img_suffix (str, optional): Target image suffix; default
            ``img_suffix``.
        crop_size (tuple[int, int]): (h, w) of the training crops.
            Default: (512, 512).
        resize (tuple[int, int], optional): (w, h) every image is resized to
            fit (aspect ratio kept) before cropping and at test time;
            None keeps the files' size. Default: None.
        ignore_index (int): Ignored label value. Default: 255.
        pretrained (str, optional): ImageNet weights of the DeepLabV2 trunk
            (``docs/model_converters.md``). Default:
            'checkpoints/deeplabv2_init_mmseg.pth'.
        out_dir (str, optional): Where to write; default
            ``configs/custom/<name>``.
        work_dir_root (str): Where tools/train.py puts the runs (the
            stage-2 leaf names the stage-1 checkpoint in it). Default:
            'work_dirs'.

    Returns:
        dict[str, str]: Paths written, keys ``data``, ``stage1``,
        ``stage2``, ``dacs``.

    Raises:
        ValueError: Naming the argument that is wrong.
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f'make_custom_config: name must be lower case '
                         f'letters, digits and "-", got {name!r}.')
    palette = [list(c) for c in palette]
    check_metainfo(dict(classes=tuple(classes), palette=palette),
                   owner='make_custom_config')
    if bool(val_images) != bool(val_labels):
        raise ValueError('make_custom_config: give both val_images and '
                         'val_labels, or neither (no validation).')
    if len(crop_size) != 2 or min(crop_size) < 1:
        raise ValueError(f'make_custom_config: crop_size must be (h, w), '
                         f'got {crop_size!r}.')
    for arg, suffix in (('img_suffix', img_suffix),
                        ('seg_map_suffix', seg_map_suffix)):
        if not isinstance(suffix, str) or not suffix:
            raise ValueError(f'make_custom_config: {arg} must be a file '
                             f'suffix such as ".png", got {suffix!r}.')
    out_dir = out_dir or osp.join(CONFIGS_ROOT, 'custom', name)
    os.makedirs(out_dir, exist_ok=True)
    base = osp.relpath(osp.join(CONFIGS_ROOT, '_base_'), out_dir)
    has_val = bool(val_images)
    data = f'./{name}_data.py'
    files = {'data': f'{name}_data.py',
             'stage1': f'deeplabv2_{name}_stage1.py',
             'stage2': f'deeplabv2_{name}_stage2.py',
             'dacs': f'deeplabv2_{name}_dacs.py'}
    texts = {'data': _data_fragment(
        name, classes, palette, source_images, source_labels,
        target_images, val_images, val_labels, img_suffix, seg_map_suffix,
        target_img_suffix or img_suffix, tuple(crop_size),
        None if resize is None else tuple(resize), ignore_index)}
    model = ('model = dict(\n    _base_.uda_model,\n'
             '    data_preprocessor=dict(_base_.uda_model.data_preprocessor,'
             '\n                           size=_base_.crop_size),\n'
             '    pretrained={pretrained!r},\n'
             '    decode_head=dict(num_classes=_base_.num_classes){extra})\n')
    stage1_dir = osp.join(work_dir_root, osp.splitext(files['stage1'])[0])
    texts['stage1'] = _leaf(
        '# Stage 1 of the method on these folders: grayscale source and '
        'target,\n# cross-entropy on the source + entropy on the target; '
        'DeepLabV2 (ResNet-101),\n# SGD poly over 100k iterations.\n',
        [f'{base}/models/deeplabv2_r101-d8.py',
         f'{base}/uda/method-stage1-gray-entropy.py', data,
         f'{base}/schedules/schedule_sgd-poly_100k.py'],
        model.replace('{extra}', ",\n    entropy_resolution='native'"),
        has_val, pretrained)
    texts['stage2'] = _leaf(
        '# Stage 2 of the method on these folders: FDA (beta 0.09) both '
        'ways, entropy,\n# the pixel contrastive loss with the stage-1 '
        'pseudo labels (PseudoLabelHook\n# makes them from '
        '`stage1_checkpoint` into <work_dir>/pseudo_labels);\n# SGD poly '
        'over 60k iterations, entropy and contrast from 50k.\n',
        [f'{base}/models/deeplabv2_r101-d8.py',
         f'{base}/uda/method-stage2-fda-cl.py', data,
         f'{base}/schedules/schedule_sgd-poly_60k.py'],
        f"stage1_checkpoint = '{stage1_dir}/iter_100000.pth'\n" +
        model.replace('{extra}', ",\n    entropy_resolution='native',\n"
                      "    embedding_resolution='input'") +
        'train_dataloader = dict(\n    dataset=dict(target=dict(\n'
        '        pipeline=_base_.target_train_pipeline_pseudo_labels)))\n',
        has_val, pretrained)
    texts['dacs'] = _leaf(
        '# DACS (Tranheden et al., WACV 2021) on these folders: mean '
        'teacher, ClassMix,\n# colour jitter and blur, quality-weighted '
        'pseudo labels; batches of two crops,\n# SGD poly over 250k '
        'iterations.\n',
        [f'{base}/models/deeplabv2_r101-d8.py', data,
         f'{base}/uda/dacs.py',
         f'{base}/schedules/schedule_sgd-poly_250k.py'],
        model.replace('{extra}', '') +
        'train_dataloader = dict(batch_size=2)\n', has_val, pretrained)
    paths = {}
    for key, fname in files.items():
        paths[key] = osp.join(out_dir, fname)
        with open(paths[key], 'w') as f:
            f.write(texts[key])
    return paths
