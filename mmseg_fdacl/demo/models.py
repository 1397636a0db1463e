"""Small models for the demo, the tests and the benchmarks.

Every DeepLabV2 here is the demo's model
(``configs/fdacl/demo/_base_demo.py``: ResNetV1c trunk, output stride 8,
DLV2Head) with its widths, dilations and loss overridden, so the model is
written once. :func:`uda_mode_cfg` turns one into the UDA segmentor of
stage 1 or stage 2, or into an online self-training segmentor (DACS, MIC, the
method online), :func:`build_trainable` builds it with an SGD optim wrapper,
the way the runner's ``train_step`` uses them, and :func:`build_teacher`
gives an online segmentor the mean teacher that ``MeanTeacherHook`` gives it
in a run.
"""
import copy
import functools
import os.path as osp
from typing import Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The demo's base config; its ``model`` is the DeepLabV2 all others vary.
DEMO_BASE_CONFIG = osp.join(REPO_ROOT, 'configs', 'fdacl', 'demo',
                            '_base_demo.py')
#: The online self-training modes of :func:`uda_mode_cfg` (they need a
#: teacher, :func:`build_teacher`, and source and target crops of one size).
ONLINE_MODES = ('dacs', 'mic', 'fda-cl-online')
#: The training modes of :func:`uda_mode_cfg`.
UDA_MODES = ('source-only', 'stage1', 'stage2') + ONLINE_MODES


@functools.lru_cache(maxsize=1)
def _demo_model_cfg() -> dict:
    if not osp.isfile(DEMO_BASE_CONFIG):
        raise FileNotFoundError(
            f'the demo base config {DEMO_BASE_CONFIG!r} is missing; the demo '
            'models need the repository checkout (pip install -e .).')
    return Config.fromfile(DEMO_BASE_CONFIG).model.to_dict()


def demo_model_cfg() -> dict:
    """A fresh copy of ``model`` of ``configs/fdacl/demo/_base_demo.py``."""
    return copy.deepcopy(_demo_model_cfg())


def deeplabv2_cfg(
    *,
    depth: int = 18,
    base_channels: int = 16,
    stem_channels: Optional[int] = None,
    dilations: Sequence[int] = (6, 12, 18, 24),
    num_classes: int = 19,
    crop: Optional[Sequence[int]] = (256, 512)) -> dict:
    """The demo's DeepLabV2 with other sizes, and plain cross-entropy.

    Args:
        depth (int): ResNetV1c depth. Default: 18.
        base_channels (int): Trunk width. Default: 16.
        stem_channels (int, optional): Stem width. Default: ``base_channels``.
        dilations (Sequence[int]): DLV2Head dilations.
            Default: (6, 12, 18, 24), DeepLabV2's.
        num_classes (int): Classes. Default: 19.
        crop (Sequence[int], optional): ``(H, W)`` the data preprocessor pads
            to; None for no fixed size. Default: (256, 512).

    Returns:
        dict: An ``EncoderDecoder`` model config.
    """
    cfg = demo_model_cfg()
    expansion = 1 if depth in (18, 34) else 4
    if crop is None:
        cfg['data_preprocessor'].pop('size')
    else:
        cfg['data_preprocessor']['size'] = tuple(crop)
    cfg['backbone'].update(
        depth=depth,
        base_channels=base_channels,
        stem_channels=base_channels
        if stem_channels is None else stem_channels)
    cfg['decode_head'].update(
        in_channels=base_channels * 8 * expansion,
        dilations=tuple(dilations),
        num_classes=num_classes,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    return cfg


def uda_mode_cfg(mode: str,
                 base: dict,
                 forward_views: str = 'separate') -> dict:
    """The model config of a training mode built on a plain ``base`` config.

    Args:
        mode (str): ``'source-only'`` (``base`` itself), ``'stage1'``
            (grayscale source and target, CE + entropy), ``'stage2'`` (FDA
            both ways at beta 0.01, CE + entropy + the pixel contrastive loss
            on 2000 uniform pixels of the logits; no warm-up), or an online
            mode (:func:`online_mode_cfg`): ``'dacs'``, ``'mic'``,
            ``'fda-cl-online'``.
        base (dict): A plain ``EncoderDecoder`` config.
        forward_views (str): ``UDAEncoderDecoder.forward_views``.
            Default: 'separate'.

    Returns:
        dict: The model config (``base`` is not changed).
    """
    if mode in ONLINE_MODES:
        return online_mode_cfg(mode, base, forward_views)
    cfg = copy.deepcopy(base)
    if mode == 'source-only':
        return cfg
    cfg['type'] = 'UDAEncoderDecoder'
    cfg['data_preprocessor']['type'] = 'UDADataPreProcessor'
    cfg['forward_views'] = forward_views
    cfg['lambda_ent'] = 0.005
    if mode == 'stage1':
        cfg['data_preprocessor']['grayscale'] = dict(
            source=True, target=True, test=True)
    elif mode == 'stage2':
        cfg['data_preprocessor']['fda'] = dict(
            beta=0.01, source_to_target=True, target_to_source=True)
        cfg.update(
            lambda_cl=0.1,
            contrast_loss=dict(
                type='PixelContrastLoss',
                temperature=0.07,
                sampling='uniform',
                max_samples=2000),
            embedding='logits')
    else:
        raise ValueError(f'mode must be one of {UDA_MODES}, got {mode!r}')
    return cfg


def mic_block_size(height: int) -> int:
    """MIC's mask block side scaled to a crop ``height``: eight blocks down
    the crop (MIC's 64 px at 512 px), at least 8 px (DeepLabV2's output
    stride), so crops under 64 px high get fewer blocks.

    Args:
        height (int): Crop height in pixels.

    Returns:
        int: The block side in pixels.
    """
    return max(8, int(height) // 8)


def online_mode_cfg(mode: str,
                    base: dict,
                    forward_views: str = 'separate') -> dict:
    """The :class:`SelfTrainingEncoderDecoder` config of an online mode.

    The values are read from ``configs/_base_/uda/``:

    * ``'dacs'`` (``dacs.py``): source CE, the teacher's pseudo labels on the
      target weighted by their quality (confidence 0.968), ClassMix and DACS'
      strong augmentation (colour jitter p 0.8, strength 0.25, blur);
    * ``'mic'``: ``'dacs'`` plus MIC's masked consistency (weight 1, 70% of
      the blocks masked, strong augmentation first), blocks of
      :func:`mic_block_size` of the preprocessor's crop height (64 px when
      it has no fixed size);
    * ``'fda-cl-online'`` (``fda-cl-online.py``): ``'dacs'`` plus FDA both
      ways at beta 0.01, pseudo labels on the target in the source style,
      entropy (0.005) and the cross-view pixel contrast (weight 1,
      temperature 0.07, 2000 uniform positions, the logits as embeddings).

    ClassMix pastes source pixels onto target images: both domains need one
    crop size.

    Args:
        mode (str): One of :data:`ONLINE_MODES`.
        base (dict): A plain ``EncoderDecoder`` config (not changed).
        forward_views (str): ``UDAEncoderDecoder.forward_views`` of the
            source/target/stylized views. Default: 'separate'.

    Returns:
        dict: The model config; train it with :func:`build_teacher`.
    """
    if mode not in ONLINE_MODES:
        raise ValueError(
            f'mode must be one of {ONLINE_MODES}, got {mode!r}')
    cfg = copy.deepcopy(base)
    pre = cfg['data_preprocessor']
    dacs = _uda_fragment('dacs.py').uda_model.to_dict()
    pre.update(dacs.pop('data_preprocessor'))
    cfg.update(dacs, forward_views=forward_views)
    if mode == 'mic':
        mic = _uda_fragment('mic.py').mic_masking
        size = pre.get('size')
        cfg.update(
            lambda_mask=mic.lambda_mask,
            mask=dict(
                mic.mask.to_dict(),
                block_size=64 if size is None else mic_block_size(size[0])))
    elif mode == 'fda-cl-online':
        frag = _uda_fragment('fda-cl-online.py')
        pre['fda'] = frag.online_fda.to_dict()
        cfg.update(frag.online_fda_cl.to_dict())
    return cfg


@functools.lru_cache(maxsize=None)
def _uda_fragment(name: str) -> Config:
    """A method block of ``configs/_base_/uda/`` (read once)."""
    return Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'uda', name))


def build_trainable(
        cfg: dict,
        seed: int = 0,
        device: str = 'cpu') -> Tuple[torch.nn.Module, OptimWrapper]:
    """A model in train mode (same weights for a given seed) and its SGD
    optim wrapper (lr 2.5e-4, momentum 0.9, weight decay 5e-4).

    Args:
        cfg (dict): The model config (not changed).
        seed (int): Torch seed of the initialization. Default: 0.
        device (str): Where the model lives. Default: 'cpu'.

    Returns:
        tuple: ``(model, optim_wrapper)``.
    """
    from mmengine.logging import MMLogger
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    torch.manual_seed(seed)
    model = MODELS.build(copy.deepcopy(cfg)).to(device)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs every parameter
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    model.train()
    optim = OptimWrapper(
        torch.optim.SGD(
            model.parameters(), lr=2.5e-4, momentum=0.9, weight_decay=5e-4))
    return model, optim


def build_teacher(model: torch.nn.Module,
                  alpha: float = 0.999) -> Optional[torch.nn.Module]:
    """The mean teacher of an online segmentor, as ``MeanTeacherHook`` makes
    it outside a runner: a :class:`TeacherEMA` of ``model`` started as its
    copy and attached with ``attach_teacher``.

    After each optimizer step call ``ema.update_parameters(model)`` (the
    hook's ``after_train_iter``).

    Args:
        model (nn.Module): The student (after its weight init).
        alpha (float): Final EMA weight. Default: 0.999.

    Returns:
        TeacherEMA | None: The teacher's average, or None when ``model``
        takes no teacher (not an online mode).
    """
    if not hasattr(model, 'attach_teacher'):
        return None
    from ..models.teacher_ema import TeacherEMA
    ema = TeacherEMA(model, alpha=alpha)
    ema.update_parameters(model)  # update 0 copies the student
    model.attach_teacher(ema.module)
    return ema
