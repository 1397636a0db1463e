"""Every config under configs/ parses, names registered types, and builds.

The glob picks up configs added later. Models are built on the ``meta``
device: every module is really constructed (so a wrong argument, shape or
type fails), but no memory is allocated and no weights are initialized.
"""
import ast
import contextlib
import glob
import os.path as osp
import re
from typing import Iterator, Tuple

import mmseg.registry as mmseg_registry
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(p, REPO) for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True))
REGISTRIES = [
    getattr(mmseg_registry, name) for name in dir(mmseg_registry)
    if name.isupper()
]


def _is_leaf(path: str) -> bool:
    """A config users run (not a `_base_` fragment or `_*.py` helper)."""
    parts = path.split(osp.sep)
    return '_base_' not in parts and not parts[-1].startswith('_')


def _typed_dicts(node, where='cfg') -> Iterator[Tuple[str, str]]:
    """Yield (key path, type name) of every dict with a string ``type``."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield where, node['type']
        for key, value in node.items():
            yield from _typed_dicts(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _typed_dicts(value, f'{where}[{i}]')


@contextlib.contextmanager
def _cpu_linspace() -> Iterator[None]:
    """MMSeg's MixVisionTransformer reads its drop-path rates with
    ``torch.linspace(...).item()``, which a meta tensor cannot give: inside
    a meta build, that one call makes a CPU tensor."""
    linspace = torch.linspace

    def cpu_linspace(*args, **kwargs):
        kwargs.setdefault('device', 'cpu')
        return linspace(*args, **kwargs)

    torch.linspace = cpu_linspace
    try:
        yield
    finally:
        torch.linspace = linspace


def test_configs_are_found():
    assert 'configs/fdacl/deeplabv2_gta2cs_source-only.py' in CONFIGS
    assert len([c for c in CONFIGS if _is_leaf(c)]) >= 2


@pytest.mark.parametrize('path', CONFIGS)
def test_config_parses_and_builds(path):
    cfg = Config.fromfile(osp.join(REPO, path))
    # Runnable MMSeg configs carry the plugin import; a pipeline spec for
    # tools/run_pipeline.py (no model) only lists such configs.
    if _is_leaf(path) and 'model' in cfg:
        assert cfg.get('custom_imports') == dict(
            imports=['mmseg_fdacl'], allow_failed_imports=False), path
        assert cfg.get('default_scope') == 'mmseg', path

    with DefaultScope.overwrite_default_scope('mmseg'):
        unknown = [(where, name)
                   for where, name in _typed_dicts(cfg._cfg_dict.to_dict())
                   if not any(reg.get(name) is not None for reg in REGISTRIES)]
        assert not unknown, f'{path}: unregistered types {unknown}'

        if 'model' in cfg and 'type' in cfg.model:
            with torch.device('meta'), _cpu_linspace():
                model = mmseg_registry.MODELS.build(cfg.model)
            assert sum(p.numel() for p in model.parameters()) > 0


def test_source_only_config_matches_published_setup():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/fdacl/deeplabv2_gta2cs_source-only.py'))
    train = cfg.train_dataloader
    assert train.batch_size == 1
    assert train.dataset.type == 'GTA5Dataset'
    assert train.dataset.data_root == 'data/gta5'
    resize = [t for t in train.dataset.pipeline if t.type == 'Resize'][0]
    assert resize.scale == (1280, 720)
    crop = [t for t in train.dataset.pipeline if t.type == 'RandomCrop'][0]
    assert crop.crop_size == (512, 1024)
    assert cfg.model.data_preprocessor.size == (512, 1024)
    val = cfg.val_dataloader.dataset
    assert val.type == 'CityscapesDataset'
    assert val.data_prefix.img_path == 'leftImg8bit/val'
    types = [t.type for t in val.pipeline]
    # Labels are loaded after the resize: scored at full resolution.
    assert types.index('Resize') < types.index('LoadAnnotations')
    # FDA evaluates at 1344x576 (data/__init__.py cs_size_test).
    assert val.pipeline[types.index('Resize')].scale == (1344, 576)
    assert cfg.val_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])
    opt = cfg.optim_wrapper
    assert opt.optimizer == dict(
        type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=5e-4)
    assert opt.paramwise_cfg.custom_keys.decode_head.lr_mult == 10.0
    assert cfg.param_scheduler[0].type == 'PolyLR'
    assert cfg.param_scheduler[0].power == 0.9
    # Fault tolerance is on by default (issue 8): resumable loop and sampler,
    # RNG states in checkpoints, atomic saves, the non-finite loss guard.
    assert cfg.train_cfg.type == 'ResumableIterBasedTrainLoop'
    assert cfg.train_dataloader.sampler.type == 'ResumableInfiniteSampler'
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    assert cfg.default_hooks.rng_state.type == 'RNGStateHook'
    assert opt.type == 'NonFiniteGuardOptimWrapper'
    assert cfg.train_cfg.max_iters == cfg.param_scheduler[0].end == 150000
    assert cfg.model.backbone.depth == 101
    assert cfg.model.pretrained.endswith('.pth')


# MMSeg's rule, {algorithm}_{components}_{training settings}_{train data}_
# {test data}, for every config of configs/fdacl/ but the short card names.
# {algorithm}_{components}_{GxbN-Nk}_gta5-{size}_cityscapes-{size}.py: the
# offline stages train on 1280x720 / 1024x512 frames, the online recipes on
# 512x512 crops (HRDA: 1024x1024 crops, tested at 2048x1024); G GPUs of N
# images each (the multi-GPU variants).
LONG_NAME = re.compile(r'[a-z0-9]+(_[a-z0-9.-]+)*_\d+xb\d+-\d+k'
                       r'_gta5-(1280x720|512x512|1024x1024)'
                       r'_cityscapes-(1024x512|512x512|2048x1024)\.py')
CARD_NAME = re.compile(
    r'(deeplabv2|enet|vgg16|daformer)_gta2cs_[a-z0-9.-]+\.py')


def test_card_names_only_alias_long_names():
    """A short card name is a 2-4 line alias of one long-named config."""
    names = sorted(
        osp.basename(p) for p in glob.glob(
            osp.join(REPO, 'configs', 'fdacl', '*.py')))
    cards = [n for n in names if CARD_NAME.fullmatch(n)]
    assert len(cards) >= 15
    for name in names:
        if name not in cards:
            assert LONG_NAME.fullmatch(name), name
            continue
        with open(osp.join(REPO, 'configs', 'fdacl', name)) as f:
            text = f.read()
        assert len(text.splitlines()) <= 4, name
        assigned = {
            node.targets[0].id: node.value
            for node in ast.parse(text).body if isinstance(node, ast.Assign)
        }
        assert set(assigned) == {'_base_', 'custom_imports', 'default_scope'}
        base = ast.literal_eval(assigned['_base_'])
        assert base.startswith('./') and LONG_NAME.fullmatch(base[2:]), name
        assert base[2:] in names, name
