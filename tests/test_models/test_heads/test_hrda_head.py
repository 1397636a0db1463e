"""HRDAHead: the fusion att x detail + (1 - att) x context by hand, the
detail prediction landing where its crop came from, the 0.9 / 0.1 loss
weighting against plain cross-entropy, and the attention head HRDA derives."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmengine.structures import PixelData

import mmseg_fdacl  # noqa: F401
from mmseg_fdacl.models.decode_heads.hrda_head import (MultiResFeatures,
                                                       SlideFeatures,
                                                       fuse_predictions)
from tests.helpers_hrda import tiny_hrda_cfg

C = 3


def _identity_head(**kw):
    """HRDAHead over a one-branch DLV2Head whose 3x3 conv is the identity
    (logits = features), so predictions are chosen by hand."""
    single = dict(type='DLV2Head', in_channels=C, in_index=0, dilations=(1, ),
                  num_classes=C, align_corners=False, init_cfg=None)
    head = MODELS.build(
        ConfigDict(type='HRDAHead', single_scale_head=single,
                   output_stride=1, **kw))
    conv = head.head.aspp_modules[0]
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        for c in range(C):
            conv.weight[c, c, 1, 1] = 1.0
    return head


def test_fusion_by_hand():
    # Constant context and attention per class: upsampling keeps them, so
    # fused = a * detail + (1 - a) * context exactly.
    ctx = torch.tensor([1.0, -2.0, 0.5]).view(1, C, 1, 1).expand(1, C, 4, 4)
    att = torch.tensor([0.25, 0.5, 0.9]).view(1, C, 1, 1).expand(1, C, 4, 4)
    detail = torch.randn(1, C, 8, 8)
    fused = fuse_predictions(ctx, detail, att, 0.5, 1)
    a = att[:, :, :1, :1]
    expect = a * detail + (1 - a) * ctx[:, :, :1, :1]
    torch.testing.assert_close(fused, expect)


def test_detail_lands_where_its_crop_came_from():
    head = _identity_head(fixed_attention=1.0)
    # Full resolution 16 x 16, context (scale 0.5) 8 x 8, detail crop at
    # rows 4-12, columns 8-16; a spike at crop cell (3, 2).
    box = (4, 12, 8, 16)
    context = torch.zeros(1, C, 8, 8)
    detail = torch.zeros(1, C, 8, 8)
    detail[0, 1, 3, 2] = 5.0
    fused, _, hr = head(MultiResFeatures([context], [detail], box))
    assert torch.equal(hr, detail)
    assert fused.shape == (1, C, 16, 16)
    nonzero = (fused != 0).nonzero().tolist()
    assert nonzero == [[0, 1, 4 + 3, 8 + 2]]
    assert fused[0, 1, 7, 10].item() == pytest.approx(5.0)
    # Outside the crop the context alone (attention 0 there).
    context = torch.ones(1, C, 8, 8)
    fused, _, _ = head(MultiResFeatures([context], [detail], box))
    assert (fused[:, :, :2] == 1).all() and (fused[:, :, :, :6] == 1).all()
    assert fused[0, 1, 7, 10].item() == pytest.approx(5.0)
    assert fused[0, 0, 7, 10].item() == pytest.approx(0.0)


def test_sliding_detail_is_averaged_where_crops_overlap():
    head = _identity_head(fixed_attention=1.0)
    # Two 4 x 4 crops of a 4 x 6 image overlapping on columns 2-3.
    feats = torch.cat([torch.full((1, C, 4, 4), 1.0),
                       torch.full((1, C, 4, 4), 3.0)])
    slide = SlideFeatures([feats], [(0, 4, 0, 4), (0, 4, 2, 6)], 1)
    _, _, hr = head(MultiResFeatures([torch.zeros(1, C, 2, 3)], slide))
    assert hr[0, 0, 0].tolist() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]


def test_loss_is_point_nine_fused_plus_point_one_detail():
    head = _identity_head(fixed_attention=0.5)
    box = (0, 4, 4, 8)
    context = torch.randn(2, C, 2, 4)
    detail = torch.randn(2, C, 4, 4)
    labels = torch.randint(0, C, (2, 4, 8))
    labels[0, 0, 0] = 255
    samples = [SegDataSample(gt_sem_seg=PixelData(data=lab[None]))
               for lab in labels]
    feats = MultiResFeatures([context], [detail], box)
    losses = head.loss(feats, samples, None)
    fused = head(feats)[0]
    # MMSeg's CrossEntropyLoss: mean over all pixels, ignored ones 0.
    ce = F.cross_entropy(fused, labels, ignore_index=255, reduction='none')
    torch.testing.assert_close(losses['loss_ce'], 0.9 * ce.mean())
    ce_hr = F.cross_entropy(detail, labels[:, :, 4:], ignore_index=255)
    torch.testing.assert_close(losses['hr.loss_ce'], 0.1 * ce_hr)
    assert 'hr.acc_seg' in losses and 'lr.loss_ce' not in losses
    weight = torch.rand(2, 4, 8)
    expect = 0.9 * (ce * weight).mean() + 0.1 * (F.cross_entropy(
        detail, labels[:, :, 4:], ignore_index=255,
        reduction='none') * weight[:, :, 4:]).mean()
    torch.testing.assert_close(head.weighted_loss(feats, labels, weight),
                               expect)


def test_attention_head_is_derived_as_hrda_does():
    cfg = tiny_hrda_cfg('DAFormerHead')['decode_head']
    head = MODELS.build(ConfigDict(cfg))
    # DAFormerHead at attention_embed_dim with a 1x1 conv fusion (no ASPP).
    assert type(head.scale_attention).__name__ == 'DAFormerHead'
    assert not hasattr(head.scale_attention.fuse_layer, 'aspp_modules')
    assert head.scale_attention.fuse_layer.conv.kernel_size == (1, 1)
    assert hasattr(head.head.fuse_layer, 'aspp_modules')
    assert head.output_stride == 4
    single = dict(cfg, attention_classwise=False)
    assert MODELS.build(ConfigDict(single)).scale_attention.num_classes == 1
    dlv2 = MODELS.build(ConfigDict(tiny_hrda_cfg('DLV2Head')['decode_head']))
    assert dlv2.output_stride == 8
    assert type(dlv2.scale_attention).__name__ == 'DLV2Head'


def test_bad_arguments_are_named():
    single = dict(type='DLV2Head', in_channels=C, num_classes=C)
    with pytest.raises(ValueError, match='hr_loss_weight'):
        MODELS.build(ConfigDict(type='HRDAHead', single_scale_head=single,
                                hr_loss_weight=1.5))
    with pytest.raises(ValueError, match='output_stride'):
        MODELS.build(ConfigDict(
            type='HRDAHead', single_scale_head=dict(
                type='ASPPHead', in_channels=C, channels=4, num_classes=C)))
    head = _identity_head(fixed_attention=1.0)
    with pytest.raises(TypeError, match='MultiResFeatures'):
        head([torch.zeros(1, C, 2, 2)])
    with pytest.raises(ValueError, match='exactly'):
        head(MultiResFeatures([torch.zeros(1, C, 8, 8)],
                              [torch.zeros(1, C, 9, 9)], (0, 8, 0, 8)))


def test_mit_b5_attention_head_size_follows_hrdas_definition():
    # HRDA's attention for MiT-B5: four linear embeddings to 256, a 1x1
    # conv (no bias) + BN fusing 4 x 256 to 256, a 1x1 classifier to 19.
    from mmengine.config import Config
    single = Config.fromfile(
        'configs/_base_/models/daformer_sepaspp_mitb5.py').model.decode_head
    head = MODELS.build(ConfigDict(type='HRDAHead',
                                   single_scale_head=single.to_dict()))
    embed = sum(c * 256 + 256 for c in (64, 128, 320, 512))
    fusion = 4 * 256 * 256 + 2 * 256
    classifier = 256 * 19 + 19
    count = sum(p.numel() for p in head.scale_attention.parameters())
    assert count == embed + fusion + classifier == 530707
    # HRDAHead itself adds no parameters besides its two heads.
    assert sum(p.numel() for p in head.parameters()) == count + sum(
        p.numel() for p in head.head.parameters())
