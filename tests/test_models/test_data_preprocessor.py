"""Tests of UDADataPreProcessor: FDA on raw pixels, grayscale, padding."""
import copy

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.models import SegDataPreProcessor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_fdacl.fda import fda_amplitude_swap_np
from mmseg_fdacl.models import UDADataPreProcessor

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def _pre(**kw):
    cfg = dict(type='UDADataPreProcessor', mean=MEAN, std=STD,
               bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
    cfg.update(kw)
    return MODELS.build(cfg)


def _sample(h, w, label=None):
    s = SegDataSample()
    if label is not None:
        s.gt_sem_seg = PixelData(
            data=torch.full((1, h, w), label, dtype=torch.long))
    return s


def _batch(sizes=((16, 32), (16, 32)), trg_sizes=None, seed=0,
           pseudo=False):
    g = torch.Generator().manual_seed(seed)
    trg_sizes = trg_sizes or sizes

    def img(h, w):
        return torch.randint(0, 256, (3, h, w), generator=g,
                             dtype=torch.uint8)

    return dict(
        inputs=[img(*s) for s in sizes],
        data_samples=[_sample(*s, label=1) for s in sizes],
        target_inputs=[img(*s) for s in trg_sizes],
        target_data_samples=[
            _sample(*s, label=2 if pseudo else None) for s in trg_sizes
        ])


def _normalize(bgr_hwc: np.ndarray) -> torch.Tensor:
    """Reference normalization of a BGR H x W x 3 float image."""
    rgb = bgr_hwc[..., ::-1]
    out = (rgb - np.array(MEAN)) / np.array(STD)
    return torch.from_numpy(out.transpose(2, 0, 1).copy()).float()


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).double().numpy()


def test_without_target_equals_seg_data_preprocessor():
    ours = _pre(size_divisor=8)
    ref = SegDataPreProcessor(mean=MEAN, std=STD, bgr_to_rgb=True,
                              size_divisor=8)
    for training in (True, False):
        sizes = ((16, 32), (12, 30)) if training else ((16, 32), (16, 32))
        a = _batch(sizes)
        b = _batch(sizes)
        for d in (a, b):
            del d['target_inputs'], d['target_data_samples']
        out_a, out_b = ours(a, training), ref(b, training)
        assert set(out_a) == {'inputs', 'data_samples'}
        assert torch.equal(out_a['inputs'], out_b['inputs'])
        if training:
            assert torch.equal(out_a['data_samples'][1].gt_sem_seg.data,
                               out_b['data_samples'][1].gt_sem_seg.data)


def test_fda_both_directions_match_numpy_reference():
    pre = _pre(fda=dict(beta=0.05, target_to_source=True))
    data = _batch()
    raw_src = [x.clone() for x in data['inputs']]
    raw_trg = [x.clone() for x in data['target_inputs']]
    out = pre(data, True)
    assert set(out) == {'inputs', 'data_samples', 'target_inputs',
                        'target_data_samples', 'target_src_style_inputs'}
    for i in range(2):
        src, trg = _hwc(raw_src[i]), _hwc(raw_trg[i])
        expect_src = _normalize(fda_amplitude_swap_np(src, trg, 0.05))
        expect_ts = _normalize(fda_amplitude_swap_np(trg, src, 0.05))
        torch.testing.assert_close(out['inputs'][i], expect_src,
                                   atol=2e-3, rtol=0)
        torch.testing.assert_close(out['target_src_style_inputs'][i],
                                   expect_ts, atol=2e-3, rtol=0)
        # the plain target view is untouched
        torch.testing.assert_close(out['target_inputs'][i], _normalize(trg))
        assert out['data_samples'][i].fda_beta == 0.05
    # FDA changed the source: not just a normalized copy
    assert not torch.allclose(out['inputs'][0], _normalize(_hwc(raw_src[0])),
                              atol=1e-2)


def test_fda_only_target_to_source():
    pre = _pre(fda=dict(beta=0.01, source_to_target=False,
                        target_to_source=True))
    data = _batch()
    raw_src = data['inputs'][0].clone()
    out = pre(data, True)
    torch.testing.assert_close(out['inputs'][0], _normalize(_hwc(raw_src)))
    assert 'target_src_style_inputs' in out


def test_grayscale_before_fda_keeps_gray():
    pre = _pre(grayscale=dict(source=True, target=True),
               fda=dict(beta=0.09, target_to_source=True))
    data = _batch()
    raw = data['inputs'][0].permute(1, 2, 0).numpy()
    out = pre(data, True)
    std = torch.tensor(STD).view(3, 1, 1)
    mean = torch.tensor(MEAN).view(3, 1, 1)
    for key in ('inputs', 'target_inputs', 'target_src_style_inputs'):
        pix = out[key] * std + mean
        torch.testing.assert_close(pix[:, 0], pix[:, 1], atol=1e-3, rtol=0)
        torch.testing.assert_close(pix[:, 0], pix[:, 2], atol=1e-3, rtol=0)
    # plain grayscale equals OpenCV's BGR -> gray on the loaded image
    pre = _pre(grayscale=dict(source=True))
    out = pre(_batch(), True)
    gray = cv2.cvtColor(np.ascontiguousarray(raw), cv2.COLOR_BGR2GRAY)
    pix = out['inputs'][0] * std + mean
    assert (pix[0] - torch.from_numpy(gray).float()).abs().max() <= 0.51
    # the target keeps its color when only the source is gray
    tpix = out['target_inputs'][0] * std + mean
    assert not torch.allclose(tpix[0], tpix[1])


def test_grayscale_at_test_time_only_when_asked():
    data = _batch()
    del data['target_inputs'], data['target_data_samples']
    out = _pre(grayscale=dict(source=True, target=True))(dict(data), False)
    assert not torch.allclose(out['inputs'][:, 0], out['inputs'][:, 1],
                              atol=0.1)
    out = _pre(grayscale=dict(test=True))(dict(data), False)
    pix = out['inputs'] * torch.tensor(STD).view(3, 1, 1) + torch.tensor(
        MEAN).view(3, 1, 1)
    torch.testing.assert_close(pix[:, 0], pix[:, 1], atol=1e-3, rtol=0)


def test_beta_draws_are_seeded_and_restorable():
    pre = _pre(fda=dict(beta=[0.01, 0.05, 0.09]), seed=3)
    state = pre.get_rng_state()
    draws = [pre(_batch(), True)['data_samples'][0].fda_beta
             for _ in range(12)]
    assert set(draws) == {0.01, 0.05, 0.09}
    pre.set_rng_state(state)
    again = [pre(_batch(), True)['data_samples'][0].fda_beta
             for _ in range(12)]
    assert draws == again
    other = _pre(fda=dict(beta=[0.01, 0.05, 0.09]), seed=3)
    assert [other(_batch(), True)['data_samples'][0].fda_beta
            for _ in range(12)] == draws
    # per-sample draws give each sample its own beta
    pre = _pre(fda=dict(beta=[0.01, 0.09], beta_sampling='sample'))
    betas = set()
    for _ in range(6):
        out = pre(_batch(), True)
        betas |= {s.fda_beta for s in out['data_samples']}
    assert betas == {0.01, 0.09}


def test_padding_of_labels_and_pseudo_labels():
    pre = _pre(size_divisor=8, fda=dict(beta=0.01))
    out = pre(_batch(sizes=((16, 32), (12, 30)), pseudo=True), True)
    assert out['inputs'].shape == (2, 3, 16, 32)
    assert out['target_inputs'].shape == (2, 3, 16, 32)
    seg = out['data_samples'][1].gt_sem_seg.data
    assert (seg[:, 12:] == 255).all() and (seg[:, :12, :30] == 1).all()
    pl = out['target_data_samples'][1].gt_sem_seg.data
    assert (pl[:, :, 30:] == 255).all() and (pl[:, :12, :30] == 2).all()
    assert out['data_samples'][1].padding_size == (0, 2, 0, 4)


@pytest.mark.parametrize('kwargs, match', [
    (dict(fda=dict(beta=0.7)), 'fda.beta'),
    (dict(fda=dict(beta=[])), 'fda.beta'),
    (dict(fda=dict(betas=0.01)), 'unknown `fda` keys'),
    (dict(fda=dict(beta=0.01, beta_sampling='pixel')), 'beta_sampling'),
    (dict(fda=dict(beta=0.01, clip='yes')), 'fda.clip'),
    (dict(grayscale=dict(source=1.5)), 'grayscale.source'),
    (dict(grayscale=dict(trg=True)), 'unknown `grayscale` keys'),
    (dict(seed=-1), 'seed'),
    (dict(memory_format='nhwc'), 'memory_format'),
    (dict(non_blocking='yes'), 'non_blocking'),
])
def test_bad_config_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _pre(**kwargs)


def test_mismatched_batch_is_refused():
    data = _batch()
    data['target_inputs'] = data['target_inputs'][:1]
    with pytest.raises(ValueError, match='2 source but 1 target'):
        UDADataPreProcessor(mean=MEAN, std=STD)(data, True)


@pytest.mark.parametrize('with_target', [True, False])
def test_channels_last_keeps_values_changes_layout(with_target):
    """memory_format='channels_last' returns the same images (values and
    shape) in NHWC memory, every view, training and test alike."""
    fda = dict(beta=0.01, source_to_target=True, target_to_source=True)
    data = _batch()
    if not with_target:
        data = dict(inputs=data['inputs'], data_samples=data['data_samples'])
    ref = _pre(fda=fda)(data, True)
    out = _pre(fda=fda, memory_format='channels_last')(data, True)
    keys = [k for k in ('inputs', 'target_inputs', 'target_src_style_inputs')
            if k in ref]
    assert len(keys) == (3 if with_target else 1)
    for key in keys:
        assert not ref[key].is_contiguous(memory_format=torch.channels_last)
        assert out[key].is_contiguous(memory_format=torch.channels_last)
        assert out[key].shape == ref[key].shape
        torch.testing.assert_close(out[key], ref[key], rtol=0, atol=0)


def test_channels_last_model_same_loss_and_gradients():
    """A conv net fed NHWC inputs (weights NHWC too) gives the same loss and
    gradients as in NCHW, up to float reordering."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(), torch.nn.Conv2d(8, 4, 3, padding=2, dilation=2))
    data = _batch()
    results = []
    for fmt in ('contiguous', 'channels_last'):
        model = copy.deepcopy(net)
        if fmt == 'channels_last':
            model.to(memory_format=torch.channels_last)
        x = _pre(memory_format=fmt)(data, True)['inputs']
        loss = model(x).square().mean()
        loss.backward()
        results.append((loss.detach(),
                        [p.grad.contiguous() for p in model.parameters()]))
    torch.testing.assert_close(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_non_blocking_reaches_cast_data(monkeypatch):
    """non_blocking=True is what mmengine's cast_data passes to .to()."""
    seen = []
    real_to = torch.Tensor.to

    def to(self, *args, **kwargs):
        if 'non_blocking' in kwargs:
            seen.append(kwargs['non_blocking'])
        return real_to(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, 'to', to)
    _pre(non_blocking=True)(_batch(), True)
    assert seen and all(seen)
    seen.clear()
    _pre()(_batch(), True)
    assert seen and not any(seen)
