"""Tests of SelfTrainingEncoderDecoder: the teacher's pseudo labels and their
weights (hand-checked), the loss terms each switch adds, the online contrast
without a pseudo-label folder, and exact repeats from the generator state."""
import copy

import pytest
import torch
from mmengine.config import ConfigDict
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_fdacl.models.segmentors.self_training_encoder_decoder import \
    pixel_weighted_ce
from tests.helpers import tiny_deeplabv2_cfg
from tests.test_models.test_segmentors import test_uda_encoder_decoder as uda

H, W = uda.H, uda.W
# The UDA segmentor tests' autouse fixture (the runner iteration at 0) and
# their loss call.
_reset_iter = uda._reset_iter
_losses = uda._losses


def _cfg(**kw):
    cfg = tiny_deeplabv2_cfg()
    cfg['type'] = 'SelfTrainingEncoderDecoder'
    cfg['data_preprocessor'].update(type='UDADataPreProcessor')
    cfg.update(kw)
    return ConfigDict(cfg)


def _build(**kw):
    model = MODELS.build(_cfg(**kw))
    model.init_weights()
    model.attach_teacher(copy.deepcopy(model))
    return model


def _data(n=2, seed=0):
    # Target samples without labels: the teacher gives them.
    return uda._data(n, pseudo=False, seed=seed)


def test_pixel_weighted_ce_is_the_mean_over_all_pixels():
    logits = torch.randn(1, 3, 2, 2)
    labels = torch.tensor([[[0, 1], [255, 2]]])
    weight = torch.tensor([[[1.0, 0.5], [1.0, 0.0]]])
    logp = torch.log_softmax(logits, 1)[0]
    expect = (-logp[0, 0, 0] * 1.0 - logp[1, 0, 1] * 0.5) / 4
    torch.testing.assert_close(
        pixel_weighted_ce(logits, labels, weight, False), expect)


def test_pseudo_labels_quality_weight_rows_and_padding():
    model = _build(pseudo_weight_ignore_top=2, pseudo_weight_ignore_bottom=3)
    # Two classes: confident (0.99) on the left half, unsure on the right.
    logits = torch.zeros(1, 19, 8, 8)
    logits[:, 1, :, :4] = 10.0
    logits[:, 2, :, 4:] = 0.5
    model._teacher_logits = lambda view: logits
    sample = SegDataSample(metainfo=dict(img_shape=(6, 8)))
    labels, weight, quality = model.pseudo_labels(torch.zeros(1, 3, 8, 8),
                                                  [sample])
    assert quality.item() == pytest.approx(0.5)  # share of conf >= 0.968
    assert (labels[0, :6, :4] == 1).all() and (labels[0, :6, 4:] == 2).all()
    assert (labels[0, 6:] == 255).all()  # padding
    assert (weight[0, :2] == 0).all() and (weight[0, 5:] == 0).all()
    assert (weight[0, 2:5] == 0.5).all()


def test_online_class_thresholds_drop_the_least_confident_pixels():
    model = _build(class_thresholds=dict(percentile=0.5, cap=0.9,
                                         num_bins=100, decay=1.0))
    conf = torch.linspace(0.55, 0.9, 8).repeat(8, 1)  # per column
    logits = torch.full((1, 19, 8, 8), -20.0)
    logits[:, 3] = torch.log(conf)
    logits[:, 4] = torch.log(1 - conf)  # two classes: softmax = conf
    model._teacher_logits = lambda view: logits
    sample = SegDataSample(metainfo=dict(img_shape=(8, 8)))
    labels, _, _ = model.pseudo_labels(torch.zeros(1, 3, 8, 8), [sample])
    kept = labels[0] == 3
    # The median of class 3's confidences (0.725) keeps the upper half.
    assert kept[:, 4:].all() and not kept[:, :4].any()
    assert model.pl_class_histogram.sum() == 64


def test_loss_terms_of_each_switch():
    data = _data()
    keys = set(_losses(_build(), data))
    assert {'loss_ce_src', 'loss_ce_mix', 'pl_quality'} <= keys
    assert 'loss_ce_masked' not in keys
    keys = set(_losses(_build(mix=None, lambda_mask=1.0,
                              mask=dict(block_size=8)), data))
    assert {'loss_ce_st', 'loss_ce_masked'} <= keys
    assert 'loss_ce_mix' not in keys


def test_online_contrast_takes_the_teachers_pseudo_labels():
    model = _build(
        data_preprocessor=dict(
            tiny_deeplabv2_cfg()['data_preprocessor'],
            type='UDADataPreProcessor',
            fda=dict(beta=0.01, target_to_source=True)),
        pseudo_label_view='source_style',
        lambda_ent=0.005,
        lambda_cl=0.1,
        contrast_loss=dict(type='PixelContrastLoss', max_samples=64,
                           max_views=16),
        embedding='logits')
    losses = _losses(model, _data())
    assert losses['loss_cl'].requires_grad
    assert torch.isfinite(losses['loss_cl'])
    assert {'loss_ent_trg', 'loss_ce_mix'} <= set(losses)


def test_warmup_zeroes_the_self_training_terms():
    model = _build(lambda_mask=1.0, mask=dict(block_size=8), warmup_iters=5)
    losses = _losses(model, _data())
    assert losses['loss_ce_mix'].item() == 0
    assert not losses['loss_ce_mix'].requires_grad
    assert losses['loss_ce_masked'].item() == 0


def test_same_generator_state_same_losses():
    # pseudo_threshold=None: weight 1 (an untrained teacher is never sure).
    model = _build(lambda_mask=1.0, mask=dict(block_size=8),
                   pseudo_threshold=None)
    data = _data()
    state = model.get_rng_state()
    torch.manual_seed(0)
    a = _losses(model, data)
    model.set_rng_state(state)
    torch.manual_seed(0)
    b = _losses(model, data)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    c = _losses(model, data)  # the generator moved on: other draws
    assert not torch.equal(a['loss_ce_masked'], c['loss_ce_masked'])


def test_errors_name_the_fix():
    model = MODELS.build(_cfg())
    with pytest.raises(RuntimeError, match='MeanTeacherHook'):
        _losses(model, _data())
    with pytest.raises(ValueError, match='lambda_st'):
        MODELS.build(_cfg(lambda_pseudo_ce=1.0))
    with pytest.raises(ValueError, match='target_to_source=True'):
        MODELS.build(_cfg(pseudo_label_view='source_style'))
    with pytest.raises(ValueError, match="unknown `mask` keys"):
        MODELS.build(_cfg(mask=dict(size=8)))
    with pytest.raises(ValueError, match='`mix`'):
        MODELS.build(_cfg(mix='cut'))


def test_classmix_needs_one_size_for_both_domains():
    model = _build()
    data = _data()
    data['target_inputs'] = [t[:, :, :32] for t in data['target_inputs']]
    for s in data['target_data_samples']:
        s.set_metainfo(dict(img_shape=(H, 32)))
    with pytest.raises(ValueError, match='same size'):
        _losses(model, data)


def test_state_dict_keeps_encoder_decoder_keys():
    plain = MODELS.build(ConfigDict(tiny_deeplabv2_cfg()))
    online = _build()
    assert set(online.state_dict()) == set(plain.state_dict())
