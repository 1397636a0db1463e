"""Tests for the FCN-8s head."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmseg_fdacl.models.backbones import VGG16
from mmseg_fdacl.models.decode_heads import FCN8sHead
from mmseg_fdacl.models.decode_heads.fcn8s_head import bilinear_kernel


def test_bilinear_init_matches_interpolate_in_the_interior():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 6, 7)
    up = torch.nn.ConvTranspose2d(3, 3, 4, stride=2, bias=False)
    with torch.no_grad():
        up.weight.copy_(bilinear_kernel(3, 4))
    ours = up(x)[..., 1:13, 1:15]  # the crop FCN8sHead uses
    ref = F.interpolate(x, scale_factor=2, mode='bilinear',
                        align_corners=False)
    # Border pixels differ (zero padding vs. edge clamping); inside they agree.
    torch.testing.assert_close(ours[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1])


@pytest.mark.parametrize('size', [(32, 64), (45, 45), (50, 27)])
def test_fcn8s_head_shapes_and_skip_fusion(size):
    torch.manual_seed(0)
    backbone = VGG16(base_channels=4, fc_channels=16)
    head = FCN8sHead(in_channels=(16, 32, 16), num_classes=5)
    head.init_weights()
    feats = backbone(torch.randn(2, 3, *size))
    out = head(feats)
    assert out.shape == (2, 5) + feats[0].shape[-2:]  # pool3's grid
    assert not hasattr(head, 'conv_seg')
    out.sum().backward()
    for name in ('score_pool3', 'score_pool4', 'score_fr', 'upscore2',
                 'upscore_pool4'):
        assert getattr(head, name).weight.grad.abs().sum() > 0, name
    # Fusion by hand: fc7 scores up 2x + pool4 scores, up 2x + pool3 scores.
    pool3, pool4, fc7 = feats
    h4, w4 = pool4.shape[-2:]
    h3, w3 = pool3.shape[-2:]
    x = head.upscore2(head.score_fr(fc7))[..., 1:1 + h4, 1:1 + w4]
    x = head.upscore_pool4(x + head.score_pool4(pool4))[..., 1:1 + h3,
                                                         1:1 + w3]
    torch.testing.assert_close(out, x + head.score_pool3(pool3))


def test_fcn8s_head_refuses_bad_arguments_and_strides():
    head = MODELS.build(dict(type='FCN8sHead', num_classes=19))
    assert head.in_channels == [256, 512, 4096]
    for fixed in ('channels', 'dropout_ratio', 'input_transform'):
        with pytest.raises(ValueError, match=fixed):
            FCN8sHead(num_classes=19, **{fixed: 0})
    with pytest.raises(ValueError, match='in_channels'):
        FCN8sHead(in_channels=(256, 512), num_classes=19)
    # LargeFOV strides leave pool4 and fc7 at pool3's size: not FCN-8s.
    backbone = VGG16(base_channels=4, fc_channels=16,
                     strides=(2, 2, 2, 1, 1))
    head = FCN8sHead(in_channels=(16, 32, 16), num_classes=3)
    with pytest.raises(ValueError, match='strides'):
        head(backbone(torch.randn(1, 3, 32, 32)))
