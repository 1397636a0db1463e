"""ProjectionHead: unit-norm embeddings, auxiliary head of an EncoderDecoder."""
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_fdacl.models.decode_heads.projection_head import (
    ProjectionHead, logits_as_embeddings)
from tests.helpers import tiny_deeplabv2_cfg


def test_output_is_unit_norm():
    head = ProjectionHead(in_channels=8, channels=4, embed_dim=16)
    out = head([torch.randn(2, 8, 5, 7)])
    assert out.shape == (2, 16, 5, 7)
    assert torch.allclose(out.norm(dim=1), torch.ones(2, 5, 7), atol=1e-5)
    assert not hasattr(head, 'conv_seg')


def test_logits_as_embeddings():
    logits = torch.randn(1, 19, 3, 4) * 5
    emb = logits_as_embeddings(logits)
    assert torch.allclose(emb.norm(dim=1), torch.ones(1, 3, 4), atol=1e-5)
    # Same direction as the logits (an L2 normalization, not a softmax).
    assert torch.allclose(emb * logits.norm(dim=1, keepdim=True), logits,
                          atol=1e-4)


@pytest.mark.parametrize('kwargs, name', [
    (dict(embed_dim=0), 'embed_dim'),
    (dict(dropout_ratio=0.1), 'dropout_ratio'),
    (dict(loss_decode=dict(type='CrossEntropyLoss')), 'loss_decode'),
])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ProjectionHead(in_channels=8, **kwargs)


def _samples(n=2, size=(32, 64)):
    samples = []
    for _ in range(n):
        s = SegDataSample()
        label = torch.randint(0, 4, (1, ) + size)
        label[:, :4] = 255
        s.gt_sem_seg = PixelData(data=label)
        s.set_metainfo(dict(img_shape=size, pad_shape=size, ori_shape=size))
        samples.append(s)
    return samples


def test_auxiliary_head_in_encoder_decoder():
    cfg = tiny_deeplabv2_cfg()
    cfg['auxiliary_head'] = dict(
        type='ProjectionHead',
        in_channels=32,
        channels=16,
        embed_dim=8,
        in_index=0,
        loss_decode=dict(type='PixelContrastLoss', max_samples=64,
                         max_views=16, loss_weight=0.1))
    model = MODELS.build(Config(dict(model=cfg)).model)
    model.init_weights()
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 32, 64)
    losses = model.loss(inputs, _samples())
    assert torch.isfinite(losses['aux.loss_cl'])
    assert float(losses['aux.loss_cl']) > 0
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert unused == []
    model.eval()
    with torch.no_grad():
        pred = model.predict(inputs, _samples())
    assert pred[0].pred_sem_seg.shape == (32, 64)
