"""The training modes the benchmarks time, each built from its recipe.

A mode is a :class:`BenchMode` entry in :data:`MODES`: the leaf config of
the recipe (``configs/fdacl/``, which combines the method fragments of
``configs/_base_/uda/`` the way a training run does), the views its student
forwards with gradients, the forwards it runs without gradients (the mean
teacher, the frozen ImageNet backbone of the feature distance) and the few
benchmark-only changes, each with its reason. Everything else, the
segmentor, its switches and losses, the preprocessor (FDA, grayscale), the
optimizer wrapper and the teacher's EMA alpha, is read from the leaf, so a
benchmark times what the recipe trains.

The model is shrunk to the benchmark's standard size by the mode's
``graft``: the leaf's backbone is replaced by the one of a plain ``base``
config (by default the DeepLabV2 of :func:`mmseg_fdacl.demo.models.
deeplabv2_cfg`, ResNetV1c-18 with 16 base channels), the decode head keeps
the leaf's settings with the base's input width, and the preprocessor pads
to the base's crop. A recipe plugs in with one :func:`register` call naming
its leaf and, for another architecture, its own ``graft`` and ``network``:
DAFormer, HRDA and MIC(HRDA) are grafted on the MiT base of
:mod:`mit_network` (``graft_mit``) and their ratios are to
``source-only-mit``, source-only on that same network.
"""
import copy
import functools
import hashlib
import os
import os.path as osp
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Dict, Mapping, Optional, Tuple

import torch
from mmengine.config import Config

from mmseg_fdacl.demo.batches import make_batch
from mmseg_fdacl.demo.models import build_teacher, mic_block_size

from mit_network import graft_mit, graft_mit_source_only  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The bf16 autocast fragment (merged into a recipe's ``optim_wrapper``).
AMP_BF16 = osp.join(REPO_ROOT, 'configs', '_base_', 'amp_bf16.py')


def graft_deeplabv2(leaf_model: dict, base: dict) -> dict:
    """The leaf's model with the backbone of ``base``, the decode head's
    input width and classes of ``base`` and its preprocessor's crop; no
    ``pretrained`` (the benchmarks train from random weights)."""
    cfg = copy.deepcopy(leaf_model)
    cfg['backbone'] = copy.deepcopy(base['backbone'])
    head = base['decode_head']
    cfg['decode_head'].update(
        in_channels=head['in_channels'],
        in_index=head.get('in_index', 0),
        num_classes=head['num_classes'])
    pre = cfg['data_preprocessor']
    size = base['data_preprocessor'].get('size')
    if size is None:
        pre.pop('size', None)
    else:
        pre['size'] = tuple(size)
        if cfg.get('mask'):
            cfg['mask']['block_size'] = mic_block_size(size[0])
    cfg.pop('pretrained', None)
    return cfg


@dataclass(frozen=True)
class BenchMode:
    """One training mode of the benchmarks.

    Args:
        name (str): The mode's name (``--modes``).
        config (str): Its leaf config, relative to the repository root.
        views (tuple[str]): The views the student forwards with gradients,
            in forward order; their number is the mode's floor in
            source-only iterations.
        no_grad (tuple[str]): The forwards without gradients of each
            iteration (teacher, frozen ImageNet backbone).
        batch (str): What the dataloader gives it, as
            :func:`mmseg_fdacl.demo.batches.make_batch` names it:
            ``'source-only'``, ``'stage1'`` (unlabelled target) or
            ``'stage2'`` (target with pseudo labels).
        overrides (Mapping): Model keys the benchmark changes; say why in
            ``note``.
        note (str): Why the benchmark differs from the leaf, if it does.
        graft (callable): ``graft(leaf_model, base) -> model`` to the
            standard size. Default: :func:`graft_deeplabv2`.
        network (str): The base it is grafted on, a key of
            :data:`NETWORKS`. Default: 'deeplabv2'.
        baseline (str): The source-only mode on the same network, the
            denominator of its ratios. Default: 'source-only'.
        view_cost (float): One view with gradients in baseline iterations
            (HRDA: 0.5, a context at half the side plus a detail crop of
            half the side, each a quarter of the pixels). Default: 1.
        no_grad_cost (tuple[float]): Each no-gradient forward in forwards of
            the baseline's source batch (HRDA's teacher: 2.5, its context
            plus 9 overlapping detail windows); empty: 1 each.
        feats_per_view (int): Backbone calls per view with gradients (HRDA:
            2, context and detail). Default: 1.
    """
    name: str
    config: str
    views: Tuple[str, ...]
    no_grad: Tuple[str, ...] = ()
    batch: str = 'stage1'
    overrides: Mapping = field(default_factory=dict)
    note: str = ''
    graft: Callable[[dict, dict], dict] = graft_deeplabv2
    network: str = 'deeplabv2'
    baseline: str = 'source-only'
    view_cost: float = 1.0
    no_grad_cost: Tuple[float, ...] = ()
    feats_per_view: int = 1

    @property
    def floor(self) -> float:
        """Views with gradients: the iteration's floor in source-only
        iterations, before the no-gradient forwards."""
        return float(len(self.views)) * self.view_cost

    @property
    def no_grad_forwards(self) -> float:
        """The no-gradient forwards in forwards of the baseline's batch."""
        return float(sum(self.no_grad_cost or [1.0] * len(self.no_grad)))


#: Every mode, by name, in table order.
MODES: Dict[str, BenchMode] = {}
#: The networks modes are grafted on: name -> what the tables call it.
NETWORKS = {
    'deeplabv2': 'DeepLabV2 (ResNetV1c trunk, DLV2Head)',
    'mit': 'MiT with the DAFormer head',
}


def register(mode: BenchMode) -> BenchMode:
    """Add ``mode`` to :data:`MODES` (a name may not repeat)."""
    if mode.name in MODES:
        raise ValueError(f'benchmark mode {mode.name!r} is already '
                         'registered')
    if mode.network not in NETWORKS:
        raise ValueError(f'benchmark mode {mode.name!r}: network '
                         f'{mode.network!r} is none of {tuple(NETWORKS)}')
    if mode.name != mode.baseline and mode.baseline not in MODES:
        raise ValueError(f'benchmark mode {mode.name!r}: its baseline '
                         f'{mode.baseline!r} is not registered before it')
    if not osp.isfile(osp.join(REPO_ROOT, mode.config)):
        raise FileNotFoundError(
            f'benchmark mode {mode.name!r}: its config {mode.config!r} does '
            'not exist')
    MODES[mode.name] = mode
    return mode


_LEAF = 'configs/fdacl/deeplabv2_r101-d8_'
_TEACHER = 'teacher on the target'
_IMNET = 'ImageNet backbone on the source'
register(
    BenchMode(
        'source-only',
        _LEAF + '1xb1-150k_gta5-1280x720_cityscapes-1024x512.py',
        views=('source', ),
        batch='source-only'))
register(
    BenchMode(
        'stage1',
        _LEAF + 'uda-stage1-gray-ent_1xb1-100k_gta5-1280x720_cityscapes-'
        '1024x512.py',
        views=('source', 'target')))
register(
    BenchMode(
        'stage2',
        _LEAF + 'uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-'
        '1024x512.py',
        views=('source', 'target', 'source-stylized target'),
        batch='stage2',
        overrides=dict(warmup_iters=0),
        note='warmup_iters=0: entropy and contrast are on from the first '
        'iteration (the recipe switches them on at 50k)'))
register(
    BenchMode(
        'dacs',
        _LEAF + 'dacs_1xb2-250k_gta5-512x512_cityscapes-512x512.py',
        views=('source', 'ClassMix'),
        no_grad=(_TEACHER, )))
register(
    BenchMode(
        'daformer-recipe',
        _LEAF + 'daformer-recipe_1xb2-40k_gta5-512x512_cityscapes-512x512.py',
        views=('source', 'ClassMix'),
        no_grad=(_TEACHER, _IMNET)))
register(
    BenchMode(
        'mic',
        _LEAF + 'mic_1xb2-40k_gta5-512x512_cityscapes-512x512.py',
        views=('source', 'ClassMix', 'masked target'),
        no_grad=(_TEACHER, _IMNET),
        note='mask blocks of crop height / 8 px (MIC: 64 px at 512-high '
        'crops), so the mask has the same 8 blocks down the crop'))
register(
    BenchMode(
        'fda-cl-online',
        _LEAF + 'fda-cl-online_1xb2-40k_gta5-512x512_cityscapes-512x512.py',
        views=('source', 'target', 'source-stylized target', 'ClassMix'),
        no_grad=('teacher on the source-stylized target', _IMNET)))

# DAFormer's network (MiT + DAFormer head), grafted on the MiT base of
# mit_network.mit_cfg; their ratios are to source-only on that network.
_MIT = 'configs/fdacl/daformer_mit-b5_'
_HRDA_TEACHER = 'HRDA teacher on the target (context + 9 detail windows)'
register(
    BenchMode(
        'source-only-mit',
        _MIT + '1xb2-40k_gta5-512x512_cityscapes-512x512.py',
        views=('source', ),
        batch='source-only',
        graft=graft_mit_source_only,
        network='mit',
        baseline='source-only-mit',
        note='the DAFormer leaf\'s student (MiT, DAFormer head, its AdamW '
        'wrapper) trained on the source alone: the MiT modes\' baseline'))
register(
    BenchMode(
        'daformer',
        _MIT + '1xb2-40k_gta5-512x512_cityscapes-512x512.py',
        views=('source', 'ClassMix'),
        no_grad=(_TEACHER, _IMNET),
        graft=graft_mit,
        network='mit',
        baseline='source-only-mit'))
_HRDA = dict(
    graft=graft_mit,
    network='mit',
    baseline='source-only-mit',
    view_cost=0.5,
    no_grad_cost=(2.5, 1.0),
    feats_per_view=2)
register(
    BenchMode(
        'hrda',
        _MIT + 'hrda_1xb2-40k_gta5-1024x1024_cityscapes-2048x1024.py',
        views=('source', 'ClassMix'),
        no_grad=(_HRDA_TEACHER, _IMNET),
        note='detail crop, slide windows and their stride at the leaf\'s '
        'ratio to the crop (half its side, stride a quarter)',
        **_HRDA))
register(
    BenchMode(
        'mic-hrda',
        _MIT + 'mic-hrda_1xb2-40k_gta5-1024x1024_cityscapes-2048x1024.py',
        views=('source', 'ClassMix', 'masked target'),
        no_grad=(_HRDA_TEACHER, _IMNET),
        note='as hrda; mask blocks at the leaf\'s ratio to the crop '
        '(64 px at 1024, at least 4 px)',
        **_HRDA))


@functools.lru_cache(maxsize=None)
def leaf_config(path: str) -> Config:
    """A leaf config, read once."""
    return Config.fromfile(osp.join(REPO_ROOT, path))


def get_mode(name: str) -> BenchMode:
    """The registered mode ``name``, or an error listing the modes."""
    if name not in MODES:
        raise KeyError(f'unknown benchmark mode {name!r}; modes: '
                       f'{", ".join(MODES)}')
    return MODES[name]


def model_cfg(name: str,
              base: dict,
              forward_views: str = 'separate',
              channels_last: bool = False,
              non_blocking: bool = False) -> dict:
    """The model config of mode ``name`` at the size of ``base``.

    Args:
        name (str): A mode of :data:`MODES`.
        base (dict): A plain ``EncoderDecoder`` config of the standard size
            (not changed).
        forward_views (str): ``UDAEncoderDecoder.forward_views`` for the UDA
            segmentors. Default: 'separate'.
        channels_last (bool): The preprocessor returns NHWC images
            (``UDADataPreProcessor(memory_format='channels_last')``, which
            is ``SegDataPreProcessor`` without target images, so a
            source-only model gets it too). Default: False.
        non_blocking (bool): The preprocessor copies batches to the device
            asynchronously (``UDADataPreProcessor(non_blocking=True)``).
            Default: False.

    Returns:
        dict: The model config.
    """
    mode = get_mode(name)
    leaf = leaf_config(mode.config).model.to_dict()
    cfg = mode.graft(leaf, base)
    cfg.update(copy.deepcopy(dict(mode.overrides)))
    if cfg['type'] != 'EncoderDecoder':
        cfg['forward_views'] = forward_views
    pre = cfg['data_preprocessor']
    if channels_last or non_blocking:
        if pre['type'] == 'SegDataPreProcessor':
            pre['type'] = 'UDADataPreProcessor'
        if channels_last:
            pre['memory_format'] = 'channels_last'
        if non_blocking:
            pre['non_blocking'] = True
    return cfg


def teacher_alpha(name: str) -> Optional[float]:
    """The EMA alpha of the mode's ``MeanTeacherHook`` (None: no teacher)."""
    for hook in leaf_config(get_mode(name).config).get('custom_hooks', []):
        if hook.get('type') == 'MeanTeacherHook':
            return float(hook.get('alpha', 0.999))
    return None


def optim_wrapper_cfg(name: str, amp: Optional[str] = None) -> dict:
    """The mode's ``optim_wrapper``; ``amp='bf16'`` merges the bf16 autocast
    fragment ``configs/_base_/amp_bf16.py`` into it, as a user does with
    ``--cfg-options``."""
    cfg = leaf_config(get_mode(name).config).optim_wrapper.to_dict()
    if amp == 'bf16':
        cfg.update(Config.fromfile(AMP_BF16).amp_bf16_optim_wrapper.to_dict())
    elif amp is not None:
        raise ValueError(f"amp must be None or 'bf16', got {amp!r}")
    return cfg


_STAND_IN_DIR = None


def _imagenet_stand_in(backbone: dict, seed: int) -> str:
    """A checkpoint of a randomly initialized ``backbone``: the feature
    distance needs ImageNet weights to keep the features near; timing does
    not need them to be ImageNet's."""
    global _STAND_IN_DIR
    from mmseg.registry import MODELS
    if _STAND_IN_DIR is None:
        _STAND_IN_DIR = tempfile.TemporaryDirectory(prefix='bench_imnet_')
    # one file per backbone config and seed (several networks in one run)
    # (activation checkpointing changes no weight)
    key = hashlib.md5(
        repr(sorted((k, v) for k, v in backbone.items()
                    if k != 'with_cp')).encode()).hexdigest()
    path = osp.join(_STAND_IN_DIR.name, f'backbone_{key[:10]}_{seed}.pth')
    if not osp.isfile(path):
        torch.manual_seed(seed)
        net = MODELS.build(copy.deepcopy(backbone))
        net.init_weights()
        torch.save(dict(state_dict=net.state_dict()), path + '.tmp')
        os.replace(path + '.tmp', path)
    return path


def build_model(cfg: dict, device: str = 'cpu', seed: int = 0):
    """A model in train mode from ``cfg`` (same weights for a seed); a
    config with the feature distance and no ``pretrained`` gets a random
    stand-in checkpoint for its frozen ImageNet backbone."""
    from mmengine.logging import MMLogger
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    from mmengine.config import ConfigDict
    register_all_modules(init_default_scope=True)
    cfg = ConfigDict(copy.deepcopy(cfg))
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs every parameter
    try:
        if cfg.get('imnet_feature_dist') and not cfg.get('pretrained'):
            cfg['pretrained'] = _imagenet_stand_in(cfg['backbone'], seed)
        torch.manual_seed(seed)
        model = MODELS.build(cfg).to(device)
        model.init_weights()
    finally:
        logger.setLevel(level)
    if cfg['data_preprocessor'].get('memory_format') == 'channels_last':
        # NHWC weights too, so no convolution converts them per call.
        model.to(memory_format=torch.channels_last)
    return model.train()


def build_sgd(model: torch.nn.Module):
    """A plain SGD optim wrapper (lr 2.5e-4, momentum 0.9, weight decay
    5e-4), for benchmarks that compare models rather than recipes."""
    from mmengine.optim import OptimWrapper
    return OptimWrapper(
        torch.optim.SGD(
            model.parameters(), lr=2.5e-4, momentum=0.9, weight_decay=5e-4))


def build_mode(name: str,
               base: dict,
               device: str = 'cpu',
               forward_views: str = 'separate',
               amp: Optional[str] = None,
               seed: int = 0,
               channels_last: bool = False,
               non_blocking: bool = False):
    """Mode ``name`` ready to train: ``(model, optim_wrapper, ema)``.

    The optim wrapper is the leaf's (optimizer, parameter-wise settings,
    wrapper type; :func:`optim_wrapper_cfg`); ``ema`` is the teacher's
    :class:`TeacherEMA` with the leaf's alpha, attached as
    ``MeanTeacherHook`` attaches it, or None.
    """
    from mmengine.logging import MMLogger
    from mmengine.optim import build_optim_wrapper
    model = build_model(
        model_cfg(name, base, forward_views, channels_last, non_blocking),
        device, seed)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # paramwise_cfg logs every parameter
    try:
        optim = build_optim_wrapper(model, optim_wrapper_cfg(name, amp))
    finally:
        logger.setLevel(level)
    alpha = teacher_alpha(name)
    ema = None if alpha is None else build_teacher(model, alpha=alpha)
    return model, optim, ema


def modes_of(network: str) -> Tuple[str, ...]:
    """The modes grafted on ``network``, in table order."""
    return tuple(m for m, v in MODES.items() if v.network == network)


def with_baselines(names) -> list:
    """``names`` plus the baselines of their ratios, in table order."""
    wanted = set(names) | {get_mode(n).baseline for n in names}
    return [m for m in MODES if m in wanted]


def mode_batch(name: str, batch: int, crop, seed: int = 0) -> dict:
    """A collated in-memory batch for mode ``name``."""
    return make_batch(get_mode(name).batch, batch, tuple(crop), seed=seed)
