"""Tests for the ENet encoder and its use inside MMSeg's EncoderDecoder."""
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmseg.registry import MODELS

from mmseg_fdacl.models.backbones import ENet
from mmseg_fdacl.models.backbones.enet import (ENetBottleneck,
                                               ENetDownsamplingBottleneck)
from tests.helpers import tiny_deeplabv2_cfg

TINY = (4, 8, 16)


def tiny_enet_cfg(num_classes: int = 19) -> dict:
    """ENet + ENetHead with widths (4, 8, 16) in an EncoderDecoder."""
    return dict(
        type='EncoderDecoder',
        # The tiny DeepLabV2's preprocessor; odd test sizes pass unpadded.
        data_preprocessor=dict(
            tiny_deeplabv2_cfg()['data_preprocessor'], size_divisor=1),
        backbone=dict(type='ENet', channels=TINY),
        decode_head=dict(
            type='ENetHead',
            in_channels=TINY[2],
            decoder_channels=(TINY[1], TINY[0]),
            num_classes=num_classes,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


@pytest.mark.parametrize('size', [(32, 64), (45, 45), (33, 17)])
def test_enet_output_contract(size):
    torch.manual_seed(0)
    h, w = size
    model = ENet(channels=TINY)
    feats, idx2, idx1, sizes = model(torch.randn(2, 3, h, w))
    h1, w1 = -(-h // 2), -(-w // 2)  # initial block: ceil(H / 2)
    h2, w2 = -(-h1 // 2), -(-w1 // 2)
    h3, w3 = -(-h2 // 2), -(-w2 // 2)
    assert feats.shape == (2, TINY[2], h3, w3)
    assert idx2.shape == (2, TINY[1], h3, w3) and idx2.dtype == torch.long
    assert idx1.shape == (2, TINY[0], h2, w2) and idx1.dtype == torch.long
    assert sizes.tolist() == [[[h2, w2], [h1, w1], [h, w]]] * 2
    # Indices address the flattened pre-pool map of each channel.
    assert 0 <= int(idx1.min()) and int(idx1.max()) < h1 * w1
    assert 0 <= int(idx2.min()) and int(idx2.max()) < h2 * w2


def test_enet_default_size_matches_paper():
    # The paper's ENet (encoder + decoder) has 0.37M parameters.
    from mmseg_fdacl.models.decode_heads import ENetHead
    n = sum(p.numel() for p in ENet().parameters()) + sum(
        p.numel() for p in ENetHead(num_classes=19).parameters())
    assert 0.33e6 < n < 0.40e6
    enet = ENet()
    assert len(enet.stage1) == 4
    kinds = [b.kind for b in enet.stage2]
    assert kinds == ['regular', 'dilated', 'asymmetric', 'dilated'] * 2
    dil = [b.ext[1][0].dilation for b in enet.stage3 if b.kind == 'dilated']
    assert dil == [(2, 2), (4, 4), (8, 8), (16, 16)]
    assert isinstance(enet.initial.act, torch.nn.PReLU)


def test_downsampling_bottleneck_pools_with_indices_and_pads_channels():
    torch.manual_seed(0)
    block = ENetDownsamplingBottleneck(3, 8, dropout_ratio=0.0).eval()
    x = torch.randn(1, 3, 7, 9)
    out, idx = block(x)
    assert out.shape == (1, 8, 4, 5)
    pooled, ref_idx = torch.nn.functional.max_pool2d(
        x, 2, 2, ceil_mode=True, return_indices=True)
    torch.testing.assert_close(idx, ref_idx)
    # The main branch is the pooled map with zero channels appended; with the
    # extension branch zeroed the block is act(pad(pool(x))).
    for p in block.ext.parameters():
        torch.nn.init.zeros_(p)
    out, _ = block(x)
    expected = block.act(torch.cat([pooled, torch.zeros(1, 5, 4, 5)], 1))
    torch.testing.assert_close(out, expected)


def test_asymmetric_bottleneck_uses_kx1_then_1xk():
    block = ENetBottleneck(8, kind='asymmetric', kernel_size=5)
    convs = [m for m in block.ext[1].modules()
             if isinstance(m, torch.nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(5, 1), (1, 5)]
    assert block(torch.randn(1, 8, 5, 6)).shape == (1, 8, 5, 6)


def test_enet_gradients_reach_first_layer():
    torch.manual_seed(0)
    model = ENet(channels=TINY)
    model.init_weights()
    feats = model(torch.randn(2, 3, 45, 45))[0]
    feats.square().mean().backward()
    grad = model.initial.conv.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_enet_refuses_bad_arguments():
    with pytest.raises(ValueError, match='channels'):
        ENet(channels=(16, 64))
    with pytest.raises(ValueError, match='channels'):
        ENet(channels=(3, 8, 16))  # the conv branch would have 0 channels
    with pytest.raises(ValueError, match='dilations'):
        ENet(dilations=(2, 4, 8))
    with pytest.raises(ValueError, match='asymmetric_kernel_size'):
        ENet(asymmetric_kernel_size=4)
    with pytest.raises(ValueError, match='dropout_ratios'):
        ENet(dropout_ratios=(0.01, 1.5))
    with pytest.raises(ValueError, match='pretrained'):
        ENet(pretrained='a.pth', init_cfg=dict(type='Kaiming'))


def test_enet_loads_local_checkpoint(tmp_path):
    torch.manual_seed(0)
    src = ENet(channels=TINY)
    ckpt = tmp_path / 'enet.pth'
    torch.save({'state_dict': src.state_dict()}, ckpt)
    dst = MODELS.build(dict(type='ENet', channels=TINY, pretrained=str(ckpt)))
    dst.init_weights()
    for key, value in src.state_dict().items():
        torch.testing.assert_close(dst.state_dict()[key], value)


@pytest.mark.parametrize('size', [(32, 64), (45, 45)])
def test_enet_in_encoder_decoder_loss_and_predict(seg_batch, size):
    torch.manual_seed(0)
    # ConfigDict, as from a config file: predict reads `test_cfg.mode`.
    model = MODELS.build(ConfigDict(tiny_enet_cfg()))
    model.init_weights()
    inputs, samples = seg_batch(n=2, h=size[0], w=size[1])
    data = model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), training=True)
    model.train()
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
    assert torch.isfinite(losses['decode.loss_ce'])
    losses['decode.loss_ce'].backward()
    # Every parameter is used (DDP without find_unused_parameters).
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert unused == []
    assert model.backbone.initial.conv.weight.grad.abs().sum() > 0

    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=inputs, data_samples=samples), training=False)
        preds = model.predict(data['inputs'], data['data_samples'])
        logits = model(data['inputs'], mode='tensor')
    assert logits.shape == (2, 19) + size  # no resize needed
    assert len(preds) == 2
    for pred in preds:
        assert pred.pred_sem_seg.data.shape == (1, ) + size
        assert pred.seg_logits.data.shape == (19, ) + size


def test_enet_base_config_builds_and_runs():
    cfg = Config.fromfile('configs/_base_/models/enet.py')
    assert cfg.custom_imports['imports'] == ['mmseg_fdacl']
    assert cfg.default_scope == 'mmseg'
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 45, 45), mode='tensor')
    assert logits.shape == (1, 19, 45, 45)
