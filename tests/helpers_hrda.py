"""Tiny HRDA models for the CPU tests (a small MiT with a DAFormer head, or a
ResNetV1c-18 with a DLV2Head)."""
import os.path as osp
from typing import Tuple


def tiny_hrda_cfg(head: str = 'DAFormerHead', online: bool = False,
                  hr_crop_size: Tuple[int, int] = (16, 16)) -> dict:
    """An HRDA model config small enough for CPU tests.

    ``head='DAFormerHead'``: a 4-level MiT with 8-64 channels and a 16-channel
    DAFormer head (output stride 4); ``'DLV2Head'``: MMSeg's ResNetV1c-18 with
    4 base channels, dilated to output stride 8, and a two-branch DLV2Head.
    Detail crops of ``hr_crop_size``, context at 0.5, crop offsets divisible
    by 8. ``online`` gives HRDASelfTrainingEncoderDecoder with the
    UDADataPreProcessor.
    """
    from mmengine.config import Config
    base = Config.fromfile(
        osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs',
                 '_base_', 'models', 'daformer_sepaspp_mitb5.py'))
    model = base.model.to_dict()
    model.pop('pretrained', None)
    if head == 'DAFormerHead':
        model['backbone'].update(embed_dims=8, num_layers=[1, 1, 1, 1],
                                 num_heads=[1, 2, 5, 8], sr_ratios=[1, 1, 1, 1],
                                 drop_path_rate=0.0)
        single = model['decode_head']
        single.update(in_channels=[8, 16, 40, 64], channels=16, embed_dims=16)
    elif head == 'DLV2Head':
        model['backbone'] = dict(
            type='ResNetV1c', depth=18, base_channels=4, stem_channels=8,
            num_stages=4, out_indices=(3, ), dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1), norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False, contract_dilation=True)
        single = dict(type='DLV2Head', in_channels=32, in_index=0,
                      dilations=(1, 2), num_classes=19, align_corners=False,
                      init_cfg=None,
                      loss_decode=dict(type='CrossEntropyLoss',
                                       use_sigmoid=False, loss_weight=1.0))
    else:
        raise ValueError(head)
    model.update(
        type='HRDASelfTrainingEncoderDecoder' if online else
        'HRDAEncoderDecoder',
        decode_head=dict(type='HRDAHead', single_scale_head=single,
                         attention_embed_dim=16, hr_loss_weight=0.1),
        hr_crop_size=hr_crop_size,
        context_scale=0.5,
        crop_coord_divisible=8,
        test_cfg=dict(mode='whole'))
    if online:
        model['data_preprocessor'] = dict(model['data_preprocessor'],
                                          type='UDADataPreProcessor')
    return model
