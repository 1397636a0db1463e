"""Tests for the VGG16 backbone and VGG16 + FCN8sHead in an EncoderDecoder."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmseg.registry import MODELS

from mmseg_fdacl.models.backbones import VGG16

from tests.helpers import tiny_deeplabv2_cfg

TINY = dict(base_channels=4, fc_channels=16)
LARGEFOV = dict(strides=(2, 2, 2, 1, 1), dilations=(1, 1, 1, 1, 2),
                fc6_kernel_size=3, fc6_dilation=12, out_indices=(5, ))


def tiny_vgg_fcn8s_cfg(num_classes: int = 19) -> dict:
    """VGG16 (width 4, fc 16) + FCN8sHead in an EncoderDecoder."""
    return dict(
        type='EncoderDecoder',
        # The tiny DeepLabV2's preprocessor; odd test sizes pass unpadded.
        data_preprocessor=dict(
            tiny_deeplabv2_cfg()['data_preprocessor'], size_divisor=1),
        backbone=dict(type='VGG16', **TINY),
        decode_head=dict(
            type='FCN8sHead',
            in_channels=(16, 32, 16),
            num_classes=num_classes,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


@pytest.mark.parametrize('size', [(32, 64), (45, 45)])
def test_vgg16_fcn_outputs(size):
    h, w = size
    model = VGG16(**TINY)
    pool3, pool4, fc7 = model(torch.randn(2, 3, h, w))
    s3 = (-(-h // 8), -(-w // 8))  # ceil_mode pools
    s4 = (-(-s3[0] // 2), -(-s3[1] // 2))
    s5 = (-(-s4[0] // 2), -(-s4[1] // 2))
    assert pool3.shape == (2, 16) + s3
    assert pool4.shape == (2, 32) + s4
    assert fc7.shape == (2, 16) + s5
    assert model.out_channels == (16, 32, 16)


def test_vgg16_largefov_preset_keeps_stride_8():
    model = VGG16(**TINY, **LARGEFOV)
    (fc7, ) = model(torch.randn(1, 3, 45, 45))
    assert fc7.shape == (1, 16, 6, 6)
    assert model.fc6.dilation == (12, 12) and model.fc6.kernel_size == (3, 3)
    assert [c.dilation for c in model.features[24:30]
            if isinstance(c, nn.Conv2d)] == [(2, 2)] * 3


def test_vgg16_layout_matches_torchvision_indices():
    # torchvision's vgg16.features / vgg16_bn.features: conv and pool indices.
    with torch.device('meta'):  # full size, without allocating 0.5 GB
        plain = VGG16()
    convs = [i for i, m in enumerate(plain.features)
             if isinstance(m, nn.Conv2d)]
    pools = [i for i, m in enumerate(plain.features)
             if isinstance(m, nn.MaxPool2d)]
    assert convs == [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    assert pools == [4, 9, 16, 23, 30]
    # 138.36M in torchvision minus the 1000-way classifier (4.10M).
    assert sum(p.numel() for p in plain.parameters()) == 134_260_544
    bn = VGG16(norm_cfg=dict(type='BN'), **TINY)
    convs = [i for i, m in enumerate(bn.features) if isinstance(m, nn.Conv2d)]
    assert convs == [0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40]


def test_vgg16_loads_torchvision_layout_checkpoint(tmp_path):
    torch.manual_seed(0)
    ref = VGG16(**TINY)
    c5, fc = 32, 16
    ckpt = {k: torch.randn_like(v) for k, v in ref.state_dict().items()
            if k.startswith('features.')}
    ckpt['classifier.0.weight'] = torch.randn(fc, c5 * 7 * 7)
    ckpt['classifier.0.bias'] = torch.randn(fc)
    ckpt['classifier.3.weight'] = torch.randn(fc, fc)
    ckpt['classifier.3.bias'] = torch.randn(fc)
    ckpt['classifier.6.weight'] = torch.randn(1000, fc)
    ckpt['classifier.6.bias'] = torch.randn(1000)
    path = tmp_path / 'vgg16_tv.pth'
    torch.save(ckpt, path)

    model = MODELS.build(dict(type='VGG16', pretrained=str(path), **TINY))
    model.init_weights()
    for key in ckpt:
        if key.startswith('features.'):
            torch.testing.assert_close(model.state_dict()[key], ckpt[key])
    # The convolutionalised fc6 on a 7x7 pool5 map equals the Linear layer
    # at the center pixel; fc7 equals its Linear layer.
    pool5 = torch.randn(1, c5, 7, 7)
    linear6 = F.linear(pool5.flatten(1), ckpt['classifier.0.weight'],
                       ckpt['classifier.0.bias'])
    # (the sums run in another order: float32 tolerance)
    torch.testing.assert_close(
        model.fc6(pool5)[:, :, 3, 3], linear6, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(
        model.fc7(linear6[:, :, None, None])[:, :, 0, 0],
        F.linear(linear6, ckpt['classifier.3.weight'],
                 ckpt['classifier.3.bias']), rtol=1e-4, atol=1e-4)


def test_vgg16_gradients_and_frozen_stages():
    torch.manual_seed(0)
    model = VGG16(**TINY)
    model.init_weights()
    sum(o.square().mean() for o in model(torch.randn(2, 3, 45, 45))).backward()
    assert model.features[0].weight.grad.abs().sum() > 0

    frozen = VGG16(**TINY, frozen_stages=2).train()
    assert not frozen.features[0].weight.requires_grad
    assert not frozen.features[7].weight.requires_grad  # conv2_2
    assert frozen.features[10].weight.requires_grad  # conv3_1


def test_vgg16_refuses_bad_arguments():
    for kwargs, name in ((dict(strides=(2, 2, 2, 2)), 'strides'),
                         (dict(strides=(2, 2, 2, 3, 1)), 'strides'),
                         (dict(dilations=(1, 1, 1, 1, 0)), 'dilations'),
                         (dict(out_indices=(6, )), 'out_indices'),
                         (dict(fc6_kernel_size=4), 'fc6_kernel_size'),
                         (dict(base_channels=0), 'base_channels'),
                         (dict(dropout_ratio=1.0), 'dropout_ratio'),
                         (dict(frozen_stages=7), 'frozen_stages'),
                         (dict(pretrained='a.pth',
                               init_cfg=dict(type='Kaiming')), 'pretrained')):
        with pytest.raises(ValueError, match=name):
            VGG16(**kwargs)


@pytest.mark.parametrize('size', [(32, 64), (45, 45)])
def test_vgg16_fcn8s_in_encoder_decoder_loss_and_predict(seg_batch, size):
    torch.manual_seed(0)
    # ConfigDict, as from a config file: predict reads `test_cfg.mode`.
    model = MODELS.build(ConfigDict(tiny_vgg_fcn8s_cfg()))
    model.init_weights()
    inputs, samples = seg_batch(n=2, h=size[0], w=size[1])
    model.train()
    data = model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert torch.isfinite(losses['decode.loss_ce'])
    losses['decode.loss_ce'].backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert unused == []
    assert model.backbone.features[0].weight.grad.abs().sum() > 0

    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=inputs, data_samples=samples), training=False)
        preds = model.predict(data['inputs'], data['data_samples'])
    assert len(preds) == 2
    for pred in preds:
        assert pred.pred_sem_seg.data.shape == (1, ) + size
        assert pred.seg_logits.data.shape == (19, ) + size


def test_vgg16_fcn8s_base_config_is_consistent():
    cfg = Config.fromfile('configs/_base_/models/vgg16_fcn8s.py')
    assert cfg.custom_imports['imports'] == ['mmseg_fdacl']
    assert cfg.default_scope == 'mmseg'
    with torch.device('meta'):  # full size, without allocating 0.5 GB
        model = MODELS.build(cfg.model)
    assert model.backbone.out_channels == (256, 512, 4096)
    assert model.decode_head.in_channels == [256, 512, 4096]
    assert model.decode_head.num_classes == 19
    # The same config at test width runs end to end.
    cfg.model.backbone.update(TINY)
    cfg.model.decode_head.in_channels = (16, 32, 16)
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 45, 45), mode='tensor')
    assert logits.shape == (1, 19, 6, 6)  # pool3's grid; predict resizes
