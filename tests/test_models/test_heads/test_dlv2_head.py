"""Tests for the DeepLabV2 ASPP classifier head."""
import pytest
import torch
from mmseg.registry import MODELS

from mmseg_fdacl.models.decode_heads import DLV2Head


def test_dlv2_head_shapes_and_gradients():
    torch.manual_seed(0)
    head = DLV2Head(in_channels=8, num_classes=19, dilations=(6, 12, 18, 24))
    head.init_weights()
    x = torch.randn(1, 8, 45, 45, requires_grad=True)
    out = head([x])
    assert out.shape == (1, 19, 45, 45)
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for branch in head.aspp_modules:
        assert branch.weight.grad is not None
        assert branch.weight.grad.abs().sum() > 0
    assert not hasattr(head, 'conv_seg')
    # DeepLabV2 draws the classifier weights from N(0, 0.01).
    std = torch.cat([b.weight.flatten() for b in head.aspp_modules]).std()
    assert 0.008 < std.item() < 0.012


def test_dlv2_head_is_sum_of_branches():
    head = DLV2Head(in_channels=4, num_classes=3, dilations=(1, 2))
    x = torch.randn(2, 4, 9, 11)
    expected = head.aspp_modules[0](x) + head.aspp_modules[1](x)
    torch.testing.assert_close(head([x]), expected)
    assert [b.dilation for b in head.aspp_modules] == [(1, 1), (2, 2)]


def test_dlv2_head_builds_from_registry_and_refuses_bad_args():
    head = MODELS.build(dict(type='DLV2Head', in_channels=8, num_classes=5))
    assert head.dilations == (6, 12, 18, 24)
    with pytest.raises(ValueError, match='channels'):
        DLV2Head(in_channels=8, channels=16, num_classes=5)
    with pytest.raises(ValueError, match='dilations'):
        DLV2Head(in_channels=8, num_classes=5, dilations=(0, 6))


def test_named_dilations():
    red = DLV2Head(in_channels=4, num_classes=3, dilations='deeplabv2red')
    assert red.dilations == (6, 12) and len(red.aspp_modules) == 2
    full = MODELS.build(dict(type='DLV2Head', in_channels=4, num_classes=3,
                             dilations='deeplabv2'))
    assert full.dilations == (6, 12, 18, 24)
    with pytest.raises(ValueError, match='deeplabv2red'):
        DLV2Head(in_channels=4, num_classes=3, dilations='deeplabv3')


def test_deeplabv2red_equals_the_early_return_of_a_four_branch_classifier():
    # AdaptSegNet's / DACS' Classifier_Module.forward: out = conv[0](x), then
    # `for i in range(len(conv) - 1): out += conv[i + 1](x); return out`
    # with the return inside the loop: the first two branches only.
    torch.manual_seed(0)
    four = DLV2Head(in_channels=4, num_classes=3, dilations='deeplabv2')
    red = DLV2Head(in_channels=4, num_classes=3, dilations='deeplabv2red')
    for i in range(2):
        red.aspp_modules[i].load_state_dict(four.aspp_modules[i].state_dict())
    x = torch.randn(1, 4, 30, 30)
    branches = four.aspp_modules
    early_return = branches[0](x)
    for i in range(len(branches) - 1):
        early_return = early_return + branches[i + 1](x)
        break
    torch.testing.assert_close(red([x]), early_return)
    assert not torch.allclose(four([x]), early_return)
