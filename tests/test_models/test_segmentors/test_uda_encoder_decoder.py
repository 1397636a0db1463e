"""Tests of UDAEncoderDecoder: loss terms, gradients, switches, inference."""
import copy
import glob
import os.path as osp
import sys

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_fdacl.models.segmentors import UDAEncoderDecoder
from tests.helpers import tiny_deeplabv2_cfg

H, W = 32, 64
CL = dict(type='PixelContrastLoss', max_samples=64, max_views=16)


def _tiny_mobilenet_v2_cfg():
    """MMSeg's MobileNetV2 (output stride 8) + MMSeg's ASPPHead."""
    cfg = tiny_deeplabv2_cfg()
    cfg['backbone'] = dict(
        type='MobileNetV2', widen_factor=0.25, strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4), out_indices=(1, 2, 4, 6))
    cfg['decode_head'] = dict(
        type='ASPPHead', in_channels=80, in_index=3, channels=16,
        dilations=(1, 2), num_classes=19,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    return cfg, 80, 3


def _tiny_enet_cfg():
    cfg = tiny_deeplabv2_cfg()
    cfg['backbone'] = dict(type='ENet', channels=(4, 8, 16))
    cfg['decode_head'] = dict(
        type='ENetHead', in_channels=16, decoder_channels=(8, 4),
        num_classes=19,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    return cfg, 16, 0


def _tiny_vgg_cfg():
    cfg = tiny_deeplabv2_cfg()
    cfg['backbone'] = dict(type='VGG16', base_channels=4, fc_channels=16)
    cfg['decode_head'] = dict(
        type='FCN8sHead', in_channels=(16, 32, 16), num_classes=19,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    return cfg, 16, 0  # pool3 (stride 8): enough pixels to contrast


ARCHS = {
    'deeplabv2': lambda: (tiny_deeplabv2_cfg(), 32, 0),
    'mobilenetv2': _tiny_mobilenet_v2_cfg,
    'enet': _tiny_enet_cfg,
    'vgg16': _tiny_vgg_cfg,
}


def _uda_cfg(arch='deeplabv2', stage=2, **kw):
    cfg, feat_ch, feat_idx = ARCHS[arch]()
    cfg['type'] = 'UDAEncoderDecoder'
    cfg['data_preprocessor'].update(type='UDADataPreProcessor')
    if stage == 1:
        cfg['data_preprocessor']['grayscale'] = dict(source=True, target=True)
        cfg.update(lambda_ent=0.005)
    else:
        cfg['data_preprocessor']['fda'] = dict(beta=0.01,
                                               target_to_source=True)
        cfg['auxiliary_head'] = dict(
            type='ProjectionHead', in_channels=feat_ch, in_index=feat_idx,
            channels=8, embed_dim=8, num_classes=19)
        cfg.update(lambda_ent=0.005, lambda_cl=0.1, contrast_loss=CL)
    cfg.update(kw)
    return ConfigDict(cfg)


def _sample(label=None):
    s = SegDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W),
                                    pad_shape=(H, W)))
    if label is not None:
        s.gt_sem_seg = PixelData(data=label)
    return s


def _data(n=2, pseudo=True, seed=0):
    g = torch.Generator().manual_seed(seed)

    def img():
        return torch.randint(0, 256, (3, H, W), generator=g,
                             dtype=torch.uint8)

    def label():
        lab = torch.randint(0, 4, (1, H // 8, W // 8), generator=g)
        lab = lab.repeat_interleave(8, 1).repeat_interleave(8, 2)
        lab[:, :, :4] = 255
        return lab

    return dict(
        inputs=[img() for _ in range(n)],
        data_samples=[_sample(label()) for _ in range(n)],
        target_inputs=[img() for _ in range(n)],
        target_data_samples=[
            _sample(label() if pseudo else None) for _ in range(n)
        ])


@pytest.fixture(autouse=True)
def _reset_iter():
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 0)
    yield
    hub.update_info('iter', 0)


def _losses(model, data):
    model.train()
    batch = model.data_preprocessor(data, True)
    return model(**batch, mode='loss')


def _backbone_grad(model, loss):
    params = [p for p in model.backbone.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, retain_graph=True,
                                allow_unused=True)
    return sum(float(g.abs().sum()) for g in grads if g is not None)


EXPECTED = {
    1: {'loss_ce_src', 'acc_seg_src', 'loss_ent_trg'},
    2: {'loss_ce_src', 'acc_seg_src', 'loss_ent_trg', 'loss_cl'},
}


@pytest.mark.parametrize('arch', list(ARCHS))
@pytest.mark.parametrize('stage', [1, 2])
def test_train_step_and_gradient_of_each_term(arch, stage):
    torch.manual_seed(0)
    model = MODELS.build(_uda_cfg(arch, stage))
    assert isinstance(model, UDAEncoderDecoder)
    data = _data(pseudo=stage == 2)
    losses = _losses(model, copy.deepcopy(data))
    assert set(losses) == EXPECTED[stage]
    for key, value in losses.items():
        assert torch.isfinite(value).all(), key
        if key.startswith('loss_'):
            assert value.requires_grad, key
            assert _backbone_grad(model, value) > 0, key
    # the full mmengine step: preprocessor -> loss -> backward -> SGD step
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = [p.detach().clone() for p in model.backbone.parameters()]
    log_vars = model.train_step(copy.deepcopy(data), optim)
    assert EXPECTED[stage] <= set(log_vars)
    assert torch.isfinite(log_vars['loss'])
    assert any(not torch.equal(a, b)
               for a, b in zip(before, model.backbone.parameters()))


def test_pseudo_label_ce_and_logit_embeddings():
    model = MODELS.build(
        _uda_cfg(lambda_pseudo_ce=0.5, embedding='logits',
                 auxiliary_head=None))
    losses = _losses(model, _data())
    assert {'loss_ce_trg_pl', 'acc_seg_trg_pl', 'loss_cl'} <= set(losses)
    for key in ('loss_ce_trg_pl', 'loss_cl'):
        assert _backbone_grad(model, losses[key]) > 0
    # the pseudo-label CE is the plain CE on the target, times its weight
    plain = MODELS.build(_uda_cfg(lambda_pseudo_ce=1.0, embedding='logits',
                                  auxiliary_head=None))
    plain.load_state_dict(model.state_dict())
    torch.manual_seed(0)
    ref = _losses(plain, _data())['loss_ce_trg_pl']
    torch.testing.assert_close(losses['loss_ce_trg_pl'], 0.5 * ref)


def test_switches_remove_terms_and_their_gradient():
    # lambda_ent = 0: no entropy key
    model = MODELS.build(_uda_cfg(stage=1, lambda_ent=0.0))
    losses = _losses(model, _data(pseudo=False))
    assert set(losses) == {'loss_ce_src', 'acc_seg_src'}
    # before the warm-up: constant zeros, no graph, so no gradient
    model = MODELS.build(_uda_cfg(stage=2, warmup_iters=10))
    MessageHub.get_current_instance().update_info('iter', 9)
    losses = _losses(model, _data())
    for key in ('loss_ent_trg', 'loss_cl'):
        assert float(losses[key]) == 0.0
        assert not losses[key].requires_grad
    # total gradient equals the source CE's alone
    total = sum(v for k, v in losses.items() if k.startswith('loss_'))
    assert _backbone_grad(model, total) == pytest.approx(
        _backbone_grad(model, losses['loss_ce_src']))
    MessageHub.get_current_instance().update_info('iter', 10)
    losses = _losses(model, _data())
    assert float(losses['loss_ent_trg']) > 0
    assert _backbone_grad(model, losses['loss_cl']) > 0
    # source_ce off: no source keys
    model = MODELS.build(_uda_cfg(stage=2, source_ce=False))
    assert 'loss_ce_src' not in _losses(model, _data())


def test_joint_views_give_the_same_keys():
    model = MODELS.build(_uda_cfg(stage=2, forward_views='joint'))
    losses = _losses(model, _data())
    assert set(losses) == EXPECTED[2]
    assert _backbone_grad(model, losses['loss_cl']) > 0


def test_missing_pseudo_labels_are_explained():
    model = MODELS.build(_uda_cfg(stage=2))
    with pytest.raises(ValueError, match='pseudo_label_dir'):
        _losses(model, _data(pseudo=False))


def test_predict_and_plain_checkpoint_compatibility():
    model = MODELS.build(_uda_cfg(stage=2)).eval()
    data = _data()
    plain_data = dict(inputs=data['inputs'], data_samples=data['data_samples'])
    preds = model.test_step(copy.deepcopy(plain_data))
    assert len(preds) == 2
    for p in preds:
        assert isinstance(p, SegDataSample)
        assert p.pred_sem_seg.shape == (H, W)
        assert p.seg_logits.data.shape == (19, H, W)
    # the plain EncoderDecoder has exactly the same keys minus the aux head
    plain = MODELS.build(ConfigDict(tiny_deeplabv2_cfg())).eval()
    uda_keys = {k for k in model.state_dict()
                if not k.startswith('auxiliary_head.')}
    assert uda_keys == set(plain.state_dict())
    missing, unexpected = plain.load_state_dict(model.state_dict(),
                                                strict=False)
    assert not missing
    assert all(k.startswith('auxiliary_head.') for k in unexpected)
    ref = plain.test_step(copy.deepcopy(plain_data))
    for a, b in zip(preds, ref):
        torch.testing.assert_close(a.seg_logits.data, b.seg_logits.data)


@pytest.mark.parametrize('kw, match', [
    (dict(lambda_ent=-1.0), 'lambda_ent'),
    (dict(lambda_cl=float('nan')), 'lambda_cl'),
    (dict(warmup_iters=-5), 'warmup_iters'),
    (dict(embedding='features'), 'embedding'),
    (dict(forward_views='mixed'), 'forward_views'),
    (dict(auxiliary_head=None), 'ProjectionHead'),
    (dict(entropy_loss=dict(type='EntropyLoss', loss_weight=2.0)),
     'lambda_ent'),
    (dict(source_ce=False, lambda_ent=0.0, lambda_cl=0.0), 'every loss'),
])
def test_bad_arguments_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(_uda_cfg(stage=2, **kw))


def test_contrast_needs_target_to_source():
    cfg = _uda_cfg(stage=2)
    cfg['data_preprocessor']['fda'] = dict(beta=0.01)
    with pytest.raises(ValueError, match='target_to_source'):
        MODELS.build(cfg)


# -- the configs ---------------------------------------------------------
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
UDA_CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'fdacl', '*_gta2cs_stage*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'fdacl', '*_gta2cs_fda-beta*.py')) +
    # `_*.py` in backbones/ are shared fragments (backbone + head), not
    # configs.
    glob.glob(osp.join(ROOT, 'configs', 'fdacl', 'backbones', '[!_]*.py')))


def _load(path):
    cfg = Config.fromfile(path)
    cfg.model.pretrained = None
    # the configs pad to the 512x1024 crop; the tiny test images need not be
    cfg.model.data_preprocessor.size = None
    if cfg.model.backbone.type == 'VGG16':
        # the 7x7x4096 fc6 alone is 100M parameters; the test only needs the
        # config's UDA settings to be accepted
        cfg.model.backbone.update(base_channels=8, fc_channels=64)
        cfg.model.decode_head.in_channels = (32, 64, 64)
    return cfg


def test_configs_cover_the_stages():
    names = {osp.basename(p) for p in UDA_CONFIGS}
    for arch in ('deeplabv2', 'enet', 'vgg16'):
        for stage in ('stage1', 'stage2', 'fda-beta0.01', 'fda-beta0.05',
                      'fda-beta0.09'):
            assert f'{arch}_gta2cs_{stage}.py' in names


@pytest.mark.parametrize('path', UDA_CONFIGS, ids=osp.basename)
def test_every_uda_config_builds(path):
    cfg = _load(path)
    model = MODELS.build(cfg.model)
    assert isinstance(model, UDAEncoderDecoder)
    name = osp.basename(path)
    if 'stage1' in name and 'stage2' not in name:
        assert model.data_preprocessor.grayscale == dict(
            source=1.0, target=1.0, test=1.0)
        assert model.data_preprocessor.fda is None
    if 'fda-beta' in name:
        beta = float(name.split('fda-beta')[1][:-3])
        assert model.data_preprocessor.fda['betas'] == [beta]
        # FDA's README trains with --switch2entropy=0.
        assert model.lambda_ent == 0.005 and model.warmup_iters == 0
    if name.endswith('_stage2.py'):
        # DeepLabV2 starts from ImageNet as the method; ENet/VGG16 and the
        # other backbones from their stage-1 checkpoint.
        assert model.lambda_cl > 0
        raw = Config.fromfile(path)
        assert raw.load_from or raw.model.pretrained
        # PseudoLabelHook makes the pseudo labels from `stage1_checkpoint`.
        hooks = [h for h in cfg.get('custom_hooks', [])
                 if h.type == 'PseudoLabelHook']
        assert hooks and hooks[0].checkpoints_key == 'stage1_checkpoint'
        assert cfg.stage1_checkpoint
        assert 'LoadPseudoLabel' in [
            t['type'] for t in cfg.train_dataloader.dataset.target.pipeline
        ]


@pytest.mark.parametrize(
    'path', [p for p in UDA_CONFIGS if '/backbones/' in p], ids=osp.basename)
def test_mmseg_backbones_by_config_alone_train(path):
    torch.manual_seed(0)
    model = MODELS.build(_load(path).model)
    stage2 = 'stage2' in path
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    log_vars = model.train_step(_data(pseudo=stage2), optim)
    assert EXPECTED[2 if stage2 else 1] <= set(log_vars)
    assert all(torch.isfinite(v) for v in log_vars.values())


def test_entropy_resolution_native_is_the_decoder_logits():
    """'native' is the entropy of the stride-8 logits (FDA's deeplab.py);
    'input' that of the upsampled logits: same weights, other values."""
    torch.manual_seed(0)
    native = MODELS.build(_uda_cfg(stage=1))
    with torch.no_grad():  # peaked, spatially varying predictions
        for conv in native.decode_head.aspp_modules:
            conv.weight.mul_(200.0)
    inp = MODELS.build(_uda_cfg(stage=1, entropy_resolution='input'))
    inp.load_state_dict(native.state_dict())
    data = _data()
    native.eval(), inp.eval()  # same BN statistics for the direct check
    batch = native.data_preprocessor(data, True)
    with torch.no_grad():
        logits = native.decode_head.forward(
            native.extract_feat(batch['target_inputs']))
        want = native.entropy_loss(logits)
        got = native.loss(**batch)['loss_ent_trg']
        other = inp.loss(**batch)['loss_ent_trg']
    assert logits.shape[-1] < W
    assert torch.allclose(got, want)
    assert abs(float(got) - float(other)) > 1e-3 * float(got)
    with pytest.raises(ValueError, match='entropy_resolution'):
        MODELS.build(_uda_cfg(stage=1, entropy_resolution='full'))


def test_pseudo_label_ce_waits_for_the_warmup_like_the_contrast():
    torch.manual_seed(0)
    model = MODELS.build(
        _uda_cfg(lambda_cl=0.0, lambda_pseudo_ce=1.0, warmup_iters=10))
    losses = _losses(model, _data())
    assert float(losses['loss_ce_trg_pl']) == 0.0
    assert not losses['loss_ce_trg_pl'].requires_grad
    MessageHub.get_current_instance().update_info('iter', 10)
    losses = _losses(model, _data())
    assert float(losses['loss_ce_trg_pl']) > 0


@pytest.mark.parametrize('resolution', ['input', 'native'])
def test_cross_view_contrast_at_each_embedding_resolution(resolution):
    torch.manual_seed(0)
    cl = dict(type='PixelContrastLoss', form='cross_view', sampling='uniform',
              max_samples=64)
    model = MODELS.build(
        _uda_cfg(embedding='logits', auxiliary_head=None, contrast_loss=cl,
                 embedding_resolution=resolution))
    losses = _losses(model, _data())
    assert float(losses['loss_cl']) > 0
    assert _backbone_grad(model, losses['loss_cl']) > 0


def _full_map_contrast(model, x_t, logits_t, x_ts, size, labels):
    """The contrast as it was computed before the sampled path: both views'
    embeddings upsampled to the input size and normalized on the whole map,
    then the loss on the full maps."""
    if model.embedding == 'projection':
        maps = [model.auxiliary_head.forward(x) for x in (x_t, x_ts)]
    else:
        maps = [logits_t, model.decode_head.forward(x_ts)]
    emb = [
        F.normalize(
            F.interpolate(m, size, mode='bilinear',
                          align_corners=model.align_corners),
            dim=1) for m in maps
    ]
    return model.contrast_loss(emb, labels)


@pytest.mark.parametrize('embedding', ['projection', 'logits'])
def test_sampled_contrast_equals_the_full_map_path(embedding, monkeypatch):
    # The method's cross-view form at embedding_resolution='input' draws its
    # positions on the input grid and upsamples and normalizes only those:
    # the loss and the gradients reaching both views' features are those of
    # upsampling and normalizing both maps (bit-identical on x86 CPUs; at
    # 64 x 128, since PyTorch's kernel upsamples maps as small as 32 x 64
    # along another path, equal to float rounding there).
    from tests.test_models.test_losses.test_sampled_upsample import _same
    monkeypatch.setattr(sys.modules[__name__], 'H', 64)
    monkeypatch.setattr(sys.modules[__name__], 'W', 128)
    cl = dict(type='PixelContrastLoss', form='cross_view', sampling='uniform',
              max_samples=2000)
    kw = dict(contrast_loss=cl, embedding=embedding)
    if embedding == 'logits':
        kw['auxiliary_head'] = None
    torch.manual_seed(0)
    model = MODELS.build(_uda_cfg(stage=2, **kw))
    batch = model.data_preprocessor(_data(), True)
    labels = torch.stack(
        [s.gt_sem_seg.data[0] for s in batch['target_data_samples']])
    target, target_ts = batch['target_inputs'], batch[
        'target_src_style_inputs']
    with torch.no_grad():
        feats_t = model.extract_feat(target)
        feats_ts = model.extract_feat(target_ts)
    results = []
    for path in ('full', 'sampled'):
        x_t = [f.clone().requires_grad_() for f in feats_t]
        x_ts = [f.clone().requires_grad_() for f in feats_ts]
        logits_t = model.decode_head.forward(x_t)
        torch.manual_seed(1)
        if path == 'full':
            value = _full_map_contrast(model, x_t, logits_t, x_ts,
                                       target.shape[2:], labels)
        else:
            # ... and no map is upsampled whole on the sampled path.
            interpolate = F.interpolate

            def _no_full_map(x, size=None, *args, **kwargs):
                out = interpolate(x, size, *args, **kwargs)
                assert out.shape[2:] != target.shape[2:], (
                    'a whole map was upsampled')
                return out

            with monkeypatch.context() as patch:
                patch.setattr(F, 'interpolate', _no_full_map)
                value = model._contrast(x_t, logits_t, x_ts, target, labels)
        grads = torch.autograd.grad(value, x_t + x_ts, allow_unused=True)
        results.append((value.detach(), grads))
    (full, full_grads), (sampled, sampled_grads) = results
    assert float(full) > 0
    _same(sampled, full)
    used = 0
    for a, b in zip(sampled_grads, full_grads):
        assert (a is None) == (b is None)
        if a is not None:
            _same(a, b)
            used += int(bool(b.abs().sum() > 0))
    assert used >= 2  # both views' features get a gradient
