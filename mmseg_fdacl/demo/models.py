"""Small models for the demo, the tests and the benchmarks.

Every DeepLabV2 here is the demo's model
(``configs/fdacl/demo/_base_demo.py``: ResNetV1c trunk, output stride 8,
DLV2Head) with its widths, dilations and loss overridden, so the model is
written once. :func:`uda_mode_cfg` turns one into the UDA segmentor of
stage 1 or stage 2, and :func:`build_trainable` builds it with an SGD optim
wrapper, the way the runner's ``train_step`` uses them.
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
#: The training modes of :func:`uda_mode_cfg`.
UDA_MODES = ('source-only', 'stage1', 'stage2')


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
            (grayscale source and target, CE + entropy) or ``'stage2'`` (FDA
            both ways at beta 0.01, CE + entropy + the pixel contrastive loss
            on 2000 uniform pixels of the logits; no warm-up).
        base (dict): A plain ``EncoderDecoder`` config.
        forward_views (str): ``UDAEncoderDecoder.forward_views``.
            Default: 'separate'.

    Returns:
        dict: The model config (``base`` is not changed).
    """
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
