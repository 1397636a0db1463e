"""The small models are the demo base config's model with other sizes."""
from mmengine.config import Config

from mmseg_fdacl.demo.models import (DEMO_BASE_CONFIG, deeplabv2_cfg,
                                     demo_model_cfg, uda_mode_cfg)
from tests.helpers import tiny_deeplabv2_cfg


def _literal(*, depth=18, base_channels=16, stem_channels=None,
             dilations=(6, 12, 18, 24), num_classes=19, crop=(256, 512)):
    """The model configs as tests/helpers.py and
    tools/benchmarks/bench_train_iter.py wrote them out before they were
    derived from the demo base config."""
    pre = dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255)
    if crop is not None:
        pre['size'] = tuple(crop)
    return dict(
        type='EncoderDecoder',
        data_preprocessor=pre,
        backbone=dict(
            type='ResNetV1c',
            depth=depth,
            base_channels=base_channels,
            stem_channels=stem_channels or base_channels,
            num_stages=4,
            out_indices=(3, ),
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            norm_cfg=dict(type='BN', requires_grad=True),
            contract_dilation=True),
        decode_head=dict(
            type='DLV2Head',
            in_channels=base_channels * 8 * (1 if depth in (18, 34) else 4),
            in_index=0,
            dilations=dilations,
            num_classes=num_classes,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def test_tiny_cfg_is_the_former_literal():
    tiny = _literal(base_channels=4, stem_channels=8, dilations=(1, 2),
                    crop=None)
    assert tiny_deeplabv2_cfg() == tiny
    assert type(tiny_deeplabv2_cfg()['backbone']) is dict  # repr-able
    assert tiny_deeplabv2_cfg(num_classes=16) == _literal(
        base_channels=4, stem_channels=8, dilations=(1, 2), num_classes=16,
        crop=None)


def test_benchmark_cfg_is_the_former_literal():
    assert deeplabv2_cfg() == _literal()
    assert deeplabv2_cfg(base_channels=4, crop=(32, 64)) == _literal(
        base_channels=4, crop=(32, 64))
    assert deeplabv2_cfg(depth=101, base_channels=64) == _literal(
        depth=101, base_channels=64)


def test_copies_are_independent_and_from_the_demo_config():
    assert demo_model_cfg() == Config.fromfile(
        DEMO_BASE_CONFIG).model.to_dict()
    a = tiny_deeplabv2_cfg()
    a['backbone']['depth'] = 50
    assert tiny_deeplabv2_cfg()['backbone']['depth'] == 18
    stage2 = uda_mode_cfg('stage2', a)
    assert stage2['type'] == 'UDAEncoderDecoder' and a['type'] == \
        'EncoderDecoder'
