"""HRDA segmentors: batched slide inference against whole-image inference
and MMSeg's own sliding window, the detail crop drawn on the grid and fed
from where it lies, the online recipe's terms with both heads (teacher from
sliding detail inference, feature distance on the context, MIC masks on the
HRDA crops), and EncoderDecoder's checkpoint keys."""
import copy

import pytest
import torch
from mmengine.config import ConfigDict
from mmseg.registry import MODELS

from mmseg_fdacl.models.utils.crops import crop
from tests.helpers_hrda import tiny_hrda_cfg
from tests.test_models.test_segmentors import test_uda_encoder_decoder as uda

H, W = uda.H, uda.W  # 32 x 64
_reset_iter = uda._reset_iter
HEADS = ['DAFormerHead', 'DLV2Head']


def _model(head='DAFormerHead', online=False, **kw):
    cfg = tiny_hrda_cfg(head, online=online)
    cfg.update(kw)
    model = MODELS.build(ConfigDict(cfg))
    model.init_weights()
    if online:
        model.attach_teacher(copy.deepcopy(model))
    return model


def _metas(n, h=H, w=W):
    return [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))
            for _ in range(n)]


@pytest.mark.parametrize('head', HEADS)
def test_slide_equals_whole_when_one_crop_covers_the_image(head):
    model = _model(head).eval()
    x = torch.randn(2, 3, H, W)
    with torch.no_grad():
        whole = model.whole_inference(x, _metas(2))
        model.test_cfg = ConfigDict(mode='slide', batched_slide=True,
                                    crop_size=(H, W), stride=(16, 16))
        slide = model.slide_inference(x, _metas(2))
    torch.testing.assert_close(slide, whole)


def test_batched_slide_equals_mmsegs_sliding_window():
    model = _model().eval()
    x = torch.randn(2, 3, H, W)
    with torch.no_grad():
        # Overlapping 32 x 32 windows, stride 16: 3 per image.
        model.test_cfg = ConfigDict(mode='slide', crop_size=(32, 32),
                                    stride=(16, 16))
        loop = model.slide_inference(x, _metas(2))
        model.test_cfg.batched_slide = True
        batched = model.slide_inference(x, _metas(2))
        # The sliding detail crops of one window (16 x 16, stride 8)
        # against a detail crop that covers the window.
        model.hr_crop_size = (32, 32)
        covered = model.slide_inference(x, _metas(2))
        model.hr_slide_inference = False
        direct = model.slide_inference(x, _metas(2))
    torch.testing.assert_close(batched, loop)
    torch.testing.assert_close(covered, direct)
    assert batched.shape == (2, 19, H, W)


def test_training_detail_crop_is_on_the_grid_and_fed_from_its_place():
    model = _model()
    seen = []
    orig = model.extract_unscaled_feat

    def spy(inputs):
        seen.append(inputs)
        return orig(inputs)

    model.extract_unscaled_feat = spy
    x = torch.randn(2, 3, H, W)
    boxes = set()
    for _ in range(6):
        seen.clear()
        feats = model.extract_feat(x)
        y1, y2, x1, x2 = feats.crop_box
        assert y1 % 8 == 0 and x1 % 8 == 0 and (y2 - y1, x2 - x1) == (16, 16)
        assert seen[0].shape[2:] == (H // 2, W // 2)  # the context
        assert torch.equal(seen[1], crop(x, feats.crop_box))
        boxes.add(feats.crop_box)
    assert len(boxes) > 1
    losses = model.loss(x, uda._data(2)['data_samples'])
    assert {'decode.loss_ce', 'decode.hr.loss_ce'} <= set(losses)


@pytest.mark.parametrize('head', HEADS)
def test_online_terms_with_each_head(head, tmp_path):
    # ImageNet weights for the feature distance: the student's own init.
    cfg = tiny_hrda_cfg(head)
    backbone = MODELS.build(ConfigDict(cfg['backbone']))
    path = str(tmp_path / 'imnet.pth')
    torch.save(dict(state_dict=backbone.state_dict()), path)
    model = _model(head, online=True, pretrained=path, lambda_mask=1.0,
                   mask=dict(block_size=8, ratio=0.7),
                   imnet_feature_dist=dict(classes=None),
                   pseudo_threshold=None)
    inputs = []
    orig = model._imnet_features
    model._imnet_features = lambda x: inputs.append(x) or orig(x)
    teacher_feats = []
    t_orig = model.teacher.inference_feat
    model.teacher.inference_feat = \
        lambda x: teacher_feats.append(x) or t_orig(x)
    losses = uda._losses(model, uda._data(2, pseudo=False))
    for key in ('loss_ce_src', 'hr.loss_ce_src', 'loss_ce_mix',
                'loss_ce_masked', 'loss_imnet_fd', 'pl_quality'):
        assert key in losses and torch.isfinite(losses[key]), key
    assert losses['loss_ce_mix'].requires_grad
    # The feature distance on the context: the frozen copy sees H/2 x W/2.
    assert inputs[0].shape[2:] == (H // 2, W // 2)
    # The teacher's pseudo labels: one sliding inference of the target.
    assert len(teacher_feats) == 1 and teacher_feats[0].shape[2:] == (H, W)


def test_mic_masks_apply_on_the_hrda_crops():
    model = _model(online=True, lambda_st=0.0, lambda_mask=1.0,
                   mask=dict(block_size=8, ratio=0.7, augment=False),
                   pseudo_threshold=None)
    calls = []
    orig = model.extract_feat

    def spy(inputs):
        feats = orig(inputs)
        calls.append((inputs, feats.crop_box))
        return feats

    model.extract_feat = spy
    data = uda._data(2, pseudo=False)
    batch = model.data_preprocessor(data, True)
    model.train()
    model(**batch, mode='loss')
    # Source, then the masked target.
    (_, _), (masked, box) = calls
    target = batch['target_inputs']
    keep = (masked != 0).all(1, keepdim=True)
    # Whole 8 x 8 blocks masked out of the image the crops come from ...
    blocks = keep.float().view(2, 1, H // 8, 8, W // 8, 8)
    assert ((blocks == 0) | (blocks == 1)).all()
    assert (blocks.amin((3, 5)) == blocks.amax((3, 5))).all()
    assert torch.equal(masked, target * keep)
    assert 0.5 < 1 - keep.float().mean() < 0.9
    # ... so the detail crop carries them too.
    detail = crop(masked, box)
    assert not crop(keep, box).all()
    assert torch.equal(detail, crop(target, box) * crop(keep, box))


def test_checkpoint_keys_are_the_plain_hrda_models():
    online = _model(online=True)
    plain = _model()
    assert set(online.state_dict()) == set(plain.state_dict())
    assert any(k.startswith('decode_head.scale_attention.')
               for k in plain.state_dict())


def test_errors_name_the_fix():
    cfg = tiny_hrda_cfg()
    with pytest.raises(ValueError, match='HRDAHead'):
        MODELS.build(ConfigDict(dict(cfg, decode_head=cfg['decode_head'][
            'single_scale_head'])))
    online = tiny_hrda_cfg(online=True)
    with pytest.raises(ValueError, match='lambda_ent'):
        MODELS.build(ConfigDict(dict(online, lambda_ent=0.1)))
    with pytest.raises(ValueError, match='hr_crop_size'):
        MODELS.build(ConfigDict(dict(cfg, hr_crop_size=(16, ))))


def test_a_converted_hrda_release_loads_strictly():
    # An HRDA release's network built from HRDA's module names (the
    # converter tests' reference modules): it loads into HRDAEncoderDecoder
    # as converted, every key matched.
    from mmseg_fdacl.converters.daformer_release import \
        convert_release_state_dict
    from tests.helpers import tiny_mit_daformer_cfg
    from tests.test_converters import test_daformer_release as ref
    net = torch.nn.Module()
    net.backbone = ref._ref_mit()
    net.decode_head = torch.nn.Module()
    net.decode_head.head = ref._ref_daformer_head(16, 16, 19)
    net.decode_head.scale_attention = ref._ref_daformer_head(16, 16, 19,
                                                             aspp=False)
    release = ref._release({'model.': ref._randomized(net, 0)})
    tiny = tiny_mit_daformer_cfg()
    model = MODELS.build(ConfigDict(
        type='HRDAEncoderDecoder', backbone=tiny['backbone'],
        decode_head=dict(type='HRDAHead',
                         single_scale_head=tiny['decode_head'],
                         attention_embed_dim=16)))
    model.load_state_dict(convert_release_state_dict(release), strict=True)
