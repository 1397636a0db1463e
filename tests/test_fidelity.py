"""Pins the reference-valued settings of the DeepLabV2 method configs.

Each assertion is a row of docs/fidelity.md; a change here is a change of the
recipe and needs that row (and its reason) updated too.
"""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

import mmseg_fdacl  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join(REPO, 'configs', 'fdacl')
METHOD_WEIGHTS = [
    1.0, 1.0, 1.0, 1.0, 100.0, 1.0, 100.0, 100.0, 1.0, 1.0, 1.0, 100.0, 100.0,
    1.0, 1.0, 100.0, 500.0, 500.0, 1000.0
]
register_all_modules(init_default_scope=False)


def _cfg(name):
    return Config.fromfile(osp.join(CFG, name))


ALL = ['deeplabv2_gta2cs_source-only.py', 'deeplabv2_gta2cs_fda-beta0.01.py',
       'deeplabv2_gta2cs_stage1.py', 'deeplabv2_gta2cs_stage2.py']


@pytest.mark.parametrize('name', ALL)
def test_reference_trunk_and_input(name):
    cfg = _cfg(name)
    bb = cfg.model.backbone
    assert bb.type == 'DeepLabV2ResNet' and bb.depth == 101
    assert bb.norm_cfg == dict(type='BN', requires_grad=False)
    assert bb.norm_eval is False  # the reference trains in model.train()
    assert bb.maxpool_ceil_mode is True
    net = MODELS.build(copy.deepcopy(bb))
    assert net.style == 'caffe' and not net.deep_stem
    assert net.dilations == (1, 1, 2, 4) and net.strides == (1, 2, 1, 1)
    assert net.contract_dilation is False
    head = cfg.model.decode_head
    assert head.type == 'DLV2Head' and head.dilations == (6, 12, 18, 24)
    assert head.align_corners is True
    assert head.loss_decode.type == 'ValidPixelCrossEntropyLoss'
    pre = cfg.model.data_preprocessor
    assert pre.mean == [104.00698793, 116.66876762, 122.67891434]
    assert pre.std == [1.0, 1.0, 1.0] and pre.bgr_to_rgb is False
    assert cfg.model.pretrained == 'checkpoints/deeplabv2_init_mmseg.pth'


@pytest.mark.parametrize('name', ALL)
def test_reference_data_and_optimizer(name):
    cfg = _cfg(name)
    ds = cfg.train_dataloader.dataset
    src = ds.source.pipeline if ds.type == 'UDADataset' else ds.pipeline
    types = [t.type for t in src]
    assert 'RandomFlip' not in types
    resize = src[types.index('Resize')]
    assert resize.scale == (1280, 720) and not resize.keep_ratio
    assert (resize.interpolation, resize.backend) == ('bicubic', 'pillow')
    assert src[types.index('RandomCrop')].crop_size == (512, 1024)
    test = cfg.val_dataloader.dataset.pipeline
    resize = [t for t in test if t.type == 'Resize'][0]
    assert resize.scale == (1344, 576)
    assert (resize.interpolation, resize.backend) == ('bicubic', 'pillow')
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=5e-4)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.decode_head.lr_mult \
        == 10.0
    assert cfg.param_scheduler[0].power == 0.9


def test_fda_single_beta_is_fda_readme():
    cfg = _cfg('deeplabv2_gta2cs_fda-beta0.01.py')
    m = cfg.model
    assert m.data_preprocessor.fda == dict(beta=0.01, source_to_target=True)
    assert m.lambda_ent == 0.005 and m.entropy_loss.charbonnier_eta == 2.0
    assert m.entropy_resolution == 'native' and m.warmup_iters == 0
    assert cfg.param_scheduler[0].end == 150000
    assert cfg.train_cfg.max_iters == 100000
    assert 'class_weight' not in m.decode_head.loss_decode  # CS_weights = 1


def test_stage1_is_the_method_notebook():
    cfg = _cfg('deeplabv2_gta2cs_stage1.py')
    m = cfg.model
    assert m.data_preprocessor.grayscale == dict(
        source=True, target=True, test=True)
    assert m.decode_head.loss_decode.class_weight == METHOD_WEIGHTS
    assert m.lambda_ent == 0.005 and m.warmup_iters == 0
    assert m.entropy_resolution == 'native'
    assert cfg.param_scheduler[0].end == 100000
    assert cfg.train_cfg.max_iters == 100000


def test_stage2_is_the_method_notebook():
    cfg = _cfg('deeplabv2_gta2cs_stage2.py')
    m = cfg.model
    assert cfg.load_from is None  # ImageNet initialization
    assert m.data_preprocessor.fda == dict(
        beta=0.09, source_to_target=True, target_to_source=True)
    assert m.decode_head.loss_decode.class_weight == METHOD_WEIGHTS
    assert m.lambda_ent == 0.005 and m.entropy_resolution == 'native'
    assert m.lambda_cl == 1.0 and m.get('lambda_pseudo_ce', 0) == 0
    assert m.contrast_loss == dict(
        type='PixelContrastLoss', form='cross_view', temperature=0.07,
        sampling='uniform', max_samples=2000)
    assert m.embedding == 'logits' and m.embedding_resolution == 'input'
    assert m.warmup_iters == 50000
    assert cfg.param_scheduler[0].end == cfg.train_cfg.max_iters == 60000
    ce = _cfg('deeplabv2_gta2cs_stage2-pseudo-ce.py').model
    assert ce.lambda_cl == 0 and ce.lambda_pseudo_ce > 0
    assert ce.warmup_iters == 50000  # CE and CL ablations share the schedule
    warm = _cfg('deeplabv2_gta2cs_stage2-from-stage1.py')
    assert warm.load_from == cfg.stage1_checkpoint
    assert warm.model.data_preprocessor.fda.beta == 0.01
    balanced = _cfg('deeplabv2_gta2cs_stage2-balanced-cl.py').model
    assert balanced.contrast_loss.sampling == 'balanced'


def test_stage2_pseudo_labels_are_the_method_and_fda_rule():
    """Made before training by PseudoLabelHook from the grayscale stage-1
    checkpoint on source-stylized targets (beta 0.01), FDA's thresholds, at
    the training size."""
    cfg = _cfg('deeplabv2_gta2cs_stage2.py')
    (hook, ) = [h for h in cfg.custom_hooks if h.type == 'PseudoLabelHook']
    assert hook.checkpoints_key == 'stage1_checkpoint'
    assert cfg.stage1_checkpoint.endswith('deeplabv2_gta2cs_stage1/'
                                          'iter_100000.pth')
    assert (hook.beta, hook.grayscale) == (0.01, True)
    assert (hook.percentile, hook.cap) == (0.66, 0.9)
    assert 'threshold' not in hook
    resize = [t for t in cfg.pseudo_label_pipeline if t.type == 'Resize'][0]
    assert resize.scale == (1024, 512)


def _tiny(name):
    """The config's model with a ResNet-18-size reference trunk."""
    cfg = _cfg(name)
    m = cfg.model
    m.pretrained = None
    m.data_preprocessor.size = None
    m.backbone.update(depth=18, base_channels=4, stem_channels=4)
    m.decode_head.in_channels = 32
    return MODELS.build(m)


def _batch(seed=0, h=40, w=56):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(seed)

    def sample(label):
        s = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                        pad_shape=(h, w)))
        s.gt_sem_seg = PixelData(data=label)
        return s

    def label():
        lab = torch.randint(0, 19, (1, h, w), generator=g)
        lab[:, :, :10] = 255  # ignored pixels next to weighted classes
        return lab

    def img():
        return torch.randint(0, 256, (3, h, w), generator=g,
                             dtype=torch.uint8)

    return dict(inputs=[img()], data_samples=[sample(label())],
                target_inputs=[img()], target_data_samples=[sample(label())])


@pytest.mark.parametrize('name', ['deeplabv2_gta2cs_stage1.py',
                                  'deeplabv2_gta2cs_stage2.py'])
def test_class_weighted_configs_train_on_labels_with_255(name):
    torch.manual_seed(0)
    model = _tiny(name)
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 50000)  # past the stage-2 warm-up
    try:
        optim = OptimWrapper(torch.optim.SGD(
            [p for p in model.parameters() if p.requires_grad], lr=1e-3))
        log_vars = model.train_step(_batch(), optim)
    finally:
        hub.update_info('iter', 0)
    assert 'loss_ce_src' in log_vars
    if 'stage2' in name:
        assert 'loss_cl' in log_vars and float(log_vars['loss_cl']) > 0
    assert all(torch.isfinite(v) for v in log_vars.values())



def test_the_last_checkpoint_is_the_result():
    """Published UDA results report the last checkpoint: no config keeps a
    checkpoint for its score on the target's val labels (that selection is
    the named option ``default_hooks.checkpoint.save_best=mIoU``). The
    resolved content of every runnable config is in the store that
    tests/test_resolved_configs.py compares the configs with."""
    import json
    with open(osp.join(REPO, 'tests', 'data', 'resolved_configs.json')) as f:
        stored = json.load(f)
    assert len(stored) > 40
    for name, cfg in stored.items():
        ckpt = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
        assert not ckpt.get('save_best'), (name, ckpt)
    assert not _cfg('deeplabv2_gta2cs_stage2.py').default_hooks.checkpoint.get(
        'save_best')
