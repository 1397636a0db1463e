"""Tests for the ENet decoder head."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmseg_fdacl.models.backbones import ENet
from mmseg_fdacl.models.decode_heads import ENetHead
from mmseg_fdacl.models.decode_heads.enet_head import ENetUpsamplingBottleneck


@pytest.mark.parametrize('size', [(32, 64), (45, 45), (31, 20)])
def test_enet_head_restores_the_image_size(size):
    torch.manual_seed(0)
    backbone = ENet(channels=(4, 8, 16))
    head = ENetHead(in_channels=16, decoder_channels=(8, 4), num_classes=5)
    head.init_weights()
    x = torch.randn(2, 3, *size, requires_grad=True)
    out = head(backbone(x))
    assert out.shape == (2, 5) + size
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert not hasattr(head, 'conv_seg')
    assert head.fullconv.weight.grad.abs().sum() > 0


def test_upsampling_bottleneck_unpools_to_the_pooled_positions():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 7, 9)
    pooled, idx = F.max_pool2d(x, 2, 2, ceil_mode=True, return_indices=True)
    block = ENetUpsamplingBottleneck(4, 4, dropout_ratio=0.0).eval()
    # Identity 1x1 main conv, zeroed extension: the block is relu(unpool).
    with torch.no_grad():
        block.main_conv[0].weight.copy_(torch.eye(4).view(4, 4, 1, 1))
        for p in block.ext_expand.parameters():
            p.zero_()
    out = block(pooled, idx, (7, 9))
    assert out.shape == (1, 4, 7, 9)
    mask = torch.zeros_like(x).flatten(2).scatter_(2, idx.flatten(2), 1.0)
    expected = F.relu(x * mask.view_as(x))  # eval BN is the identity here
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-4)


def test_enet_head_refuses_bad_arguments_and_inputs():
    head = MODELS.build(dict(type='ENetHead', num_classes=19))
    assert head.decoder_channels == (64, 16) and head.in_channels == 128
    for fixed in ('channels', 'in_index', 'input_transform'):
        with pytest.raises(ValueError, match=fixed):
            ENetHead(num_classes=19, **{fixed: 0})
    with pytest.raises(ValueError, match='decoder_channels'):
        ENetHead(num_classes=19, decoder_channels=(64, ))
    with pytest.raises(ValueError, match='dropout_ratio'):
        ENetHead(num_classes=19, dropout_ratio=1.0)
    backbone_out = ENet(channels=(4, 8, 16))(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match='4 outputs'):
        ENetHead(in_channels=16, num_classes=3)(backbone_out[:1])
    with pytest.raises(ValueError, match='decoder_channels'):
        ENetHead(in_channels=16, num_classes=3)(backbone_out)


def test_enet_outputs_split_along_the_batch():
    # A segmentor may run two domains in one pass and split every backbone
    # output by batch; each part must decode like a separate pass.
    torch.manual_seed(0)
    backbone = ENet(channels=(4, 8, 16)).eval()
    head = ENetHead(in_channels=16, decoder_channels=(8, 4),
                    num_classes=3).eval()
    x = torch.randn(3, 3, 21, 30)
    with torch.no_grad():
        parts = [f.split([1, 2]) for f in backbone(x)]
        joint = [head([p[i] for p in parts]) for i in range(2)]
        separate = [head(backbone(x[:1])), head(backbone(x[1:]))]
    for a, b in zip(joint, separate):
        torch.testing.assert_close(a, b)
    assert joint[1].shape == (2, 3, 21, 30)
