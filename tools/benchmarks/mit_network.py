"""The MiT network of the benchmarks: a MixVisionTransformer with the
DAFormer head, as DAFormer, HRDA and MIC(HRDA) train it.

:func:`mit_cfg` is the plain ``EncoderDecoder`` of the benchmark's size:
MiT-B5 (``configs/_base_/models/daformer_sepaspp_mitb5.py``) on a GPU, a
small MiT on a CPU (MiT-B0's depths and widths, optionally with a narrower
DAFormer head). :func:`graft_mit` puts a recipe's leaf on it the way
``modes.graft_deeplabv2`` does for DeepLabV2: the leaf's segmentor, switches
and losses, the base's backbone and widths, and HRDA's detail crop, slide
windows and MIC's mask blocks scaled by the crop over the leaf's crop, so a
CPU-sized crop keeps the recipe's proportions. :func:`graft_mit_source_only`
is the same student trained on the source alone, the denominator of the MiT
modes' ratios.
"""
import copy
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: DAFormer's network: MiT-B5 with the DAFormer head.
MIT_B5_CFG = osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                      'daformer_sepaspp_mitb5.py')
#: MiT-B0's depths and widths (SegFormer), the CPU size.
MIT_B0 = dict(embed_dims=32, num_layers=[2, 2, 2, 2])
#: ``--quick``: one block per stage, 8-dim patches, a 32-channel head.
MIT_QUICK = dict(embed_dims=8, num_layers=[1, 1, 1, 1], head_channels=32)


def mit_cfg(*,
            embed_dims: int = 64,
            num_layers: Sequence[int] = (3, 6, 40, 3),
            head_channels: Optional[int] = None,
            with_cp: bool = False,
            crop: Sequence[int] = (512, 512)) -> dict:
    """DAFormer's ``EncoderDecoder`` (MiT + DAFormer head) at another size.

    Args:
        embed_dims (int): MiT's first-stage width (stage ``i`` has
            ``embed_dims * num_heads[i]``). Default: 64 (MiT-B5).
        num_layers (Sequence[int]): Blocks per stage. Default: MiT-B5's.
        head_channels (int, optional): The DAFormer head's embedding and
            fusion width. Default: the base's (256).
        with_cp (bool): Activation checkpointing of the MiT blocks
            (``configs/_base_/models/mit_with-cp.py``). Default: False.
        crop (Sequence[int]): ``(H, W)`` the preprocessor pads to.

    Returns:
        dict: The model config, without ``pretrained``.
    """
    cfg = Config.fromfile(MIT_B5_CFG).model.to_dict()
    cfg.pop('pretrained', None)
    bb = cfg['backbone']
    bb.update(
        embed_dims=embed_dims, num_layers=list(num_layers), with_cp=with_cp)
    head = cfg['decode_head']
    head['in_channels'] = [embed_dims * h for h in bb['num_heads']]
    if head_channels is not None:
        head.update(embed_dims=head_channels, channels=head_channels)
    cfg['data_preprocessor']['size'] = tuple(crop)
    return cfg


def _scale(values: Sequence[int], new: Sequence[int],
           old: Sequence[int]) -> tuple:
    """``values`` scaled per axis by ``new / old`` (integers)."""
    return tuple(int(v * n // o) for v, n, o in zip(values, new, old))


def graft_mit(leaf_model: dict, base: dict) -> dict:
    """The leaf's model on the base's MiT and DAFormer-head widths, at the
    base's crop; HRDA's detail crop and slide windows and MIC's mask block
    keep their ratio to the crop. No ``pretrained``."""
    cfg = copy.deepcopy(leaf_model)
    cfg['backbone'] = copy.deepcopy(base['backbone'])
    head = cfg['decode_head']
    inner = head['single_scale_head'] if 'single_scale_head' in head else head
    bhead = base['decode_head']
    for key in ('in_channels', 'in_index', 'num_classes', 'embed_dims',
                'channels'):
        inner[key] = copy.deepcopy(bhead[key])
    if 'attention_embed_dim' in head:
        head['attention_embed_dim'] = bhead['channels']
    pre = cfg['data_preprocessor']
    old = tuple(pre['size'])
    new = tuple(base['data_preprocessor']['size'])
    pre['size'] = new
    if 'hr_crop_size' in cfg:
        cfg['hr_crop_size'] = _scale(cfg['hr_crop_size'], new, old)
        test = cfg.get('test_cfg', {})
        for key in ('crop_size', 'stride'):
            if key in test:
                test[key] = _scale(test[key], new, old)
    if cfg.get('mask'):
        cfg['mask']['block_size'] = max(
            4, cfg['mask']['block_size'] * new[0] // old[0])
    cfg.pop('pretrained', None)
    return cfg


def graft_mit_source_only(leaf_model: dict, base: dict) -> dict:
    """The student of :func:`graft_mit` (backbone, head, preprocessor's
    normalisation and crop) as a plain ``EncoderDecoder`` trained on the
    source: the MiT modes' denominator."""
    cfg = graft_mit(leaf_model, base)
    pre = cfg['data_preprocessor']
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            **{
                k: pre[k]
                for k in ('mean', 'std', 'bgr_to_rgb', 'pad_val',
                          'seg_pad_val', 'size') if k in pre
            }),
        backbone=cfg['backbone'],
        decode_head=cfg['decode_head'],
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
