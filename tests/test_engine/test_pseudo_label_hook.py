"""PseudoLabelHook: stage 2 trains on the pseudo labels it generates."""
import copy
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmseg_fdacl.engine.hooks import PseudoLabelHook
from mmseg_fdacl.utils import pseudo_label_path
from tests.helpers import (make_cityscapes_tree, make_gta5_tree,
                           tiny_deeplabv2_cfg)
from tests.test_apis.test_pseudo_labels import make_checkpoint


class _RecordTargets(Hook):
    """Keeps (iteration, image path, pseudo label) of every target sample."""

    priority = 'LOWEST'

    def __init__(self):
        self.seen = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        for s in data_batch['target_data_samples']:
            self.seen.append((runner.iter, s.img_path,
                              s.gt_sem_seg.data[0].numpy().copy()))


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('hook_data')
    cs = make_cityscapes_tree(str(root / 'cs'), splits=(('train', 4), ))
    gta = make_gta5_tree(str(root / 'gta'), num=3)
    ckpt = make_checkpoint(str(root / 'stage1.pth'), 0)
    return dict(cs=cs, gta=gta, ckpt=ckpt)


def _cfg(data, work_dir, hook, num_workers=0, max_iters=2):
    model = tiny_deeplabv2_cfg()
    model.update(
        type='UDAEncoderDecoder',
        lambda_pseudo_ce=1.0,  # stage 2 learns from the target pseudo labels
        data_preprocessor=dict(
            model['data_preprocessor'], type='UDADataPreProcessor'))
    source = dict(
        type='GTA5Dataset',
        data_root=data['gta'],
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ])
    target = dict(
        type='CityscapesDataset',
        data_root=data['cs'],
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadPseudoLabel'),
            dict(type='PackSegInputs')
        ])
    return dict(
        model=model,
        work_dir=str(work_dir),
        train_dataloader=dict(
            batch_size=2,
            num_workers=num_workers,
            persistent_workers=num_workers > 0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=dict(type='UDADataset', source=source, target=target)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        test_pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ],
        custom_hooks=[hook],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1000)),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        default_scope='mmseg',
        log_level='WARNING')


def _train(cfg):
    runner = Runner.from_cfg(copy.deepcopy(cfg))
    recorder = _RecordTargets()
    runner.register_hook(recorder)
    runner.train()
    return runner, recorder.seen


def _assert_labels_from(seen, label_dir, img_root, iters=None):
    assert seen
    for it, img_path, label in seen:
        if iters is not None and it not in iters:
            continue
        png = cv2.imread(
            pseudo_label_path(img_path, img_root, label_dir),
            cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(label, png)


@pytest.mark.parametrize('num_workers', [0, 1])
def test_stage2_trains_on_generated_labels(data, tmp_path, num_workers):
    hook = dict(type='PseudoLabelHook', checkpoints=data['ckpt'])
    runner, seen = _train(
        _cfg(data, tmp_path / 'work', hook, num_workers=num_workers))
    out = osp.join(str(tmp_path / 'work'), 'pseudo_labels')
    manifest = json.load(open(osp.join(out, 'manifest.json')))
    assert manifest['complete'] and manifest['num_images'] == 4
    img_root = osp.join(data['cs'], 'leftImg8bit', 'train')
    # Every batch of training carried the generated pseudo labels, even the
    # ones workers had started to prefetch before the hook ran.
    assert len(seen) == 4
    _assert_labels_from(seen, out, img_root)
    assert any((label != 255).any() for _, _, label in seen)
    assert 'loss_ce_trg_pl' in runner.message_hub.log_scalars.keys() or \
        'train/loss_ce_trg_pl' in runner.message_hub.log_scalars.keys()


def test_existing_labels_are_reused(data, tmp_path):
    hook = dict(type='PseudoLabelHook', checkpoints=data['ckpt'],
                out_dir=str(tmp_path / 'pl'))
    _train(_cfg(data, tmp_path / 'w1', hook, max_iters=1))
    manifest = osp.join(str(tmp_path / 'pl'), 'manifest.json')
    mtime = osp.getmtime(manifest)
    _, seen = _train(_cfg(data, tmp_path / 'w2', hook, max_iters=1))
    assert osp.getmtime(manifest) == mtime
    _assert_labels_from(seen, str(tmp_path / 'pl'),
                        osp.join(data['cs'], 'leftImg8bit', 'train'))


def test_self_training_rounds(data, tmp_path):
    hook = dict(type='PseudoLabelHook', checkpoints=[data['ckpt']],
                interval=1, threshold=0.3)
    _, seen = _train(_cfg(data, tmp_path / 'work', hook, max_iters=3))
    root = osp.join(str(tmp_path / 'work'), 'pseudo_labels')
    img_root = osp.join(data['cs'], 'leftImg8bit', 'train')
    _assert_labels_from(seen, root, img_root, iters={0})
    for rnd in (1, 2):
        assert osp.isfile(osp.join(root, f'round_{rnd}.pth'))
        _assert_labels_from(seen, osp.join(root, f'round_{rnd}'), img_root,
                            iters={rnd})
    assert not osp.exists(osp.join(root, 'round_3'))  # no round at the end


def test_bad_arguments_named():
    with pytest.raises(ValueError, match='interval'):
        PseudoLabelHook('a.pth', interval=0)
    with pytest.raises(ValueError, match='percentile'):
        PseudoLabelHook('a.pth', percentile=66)
    with pytest.raises(ValueError, match='checkpoints'):
        PseudoLabelHook([])
    with pytest.raises(ValueError, match='selection'):
        PseudoLabelHook('a.pth', selection='CBST')
    with pytest.raises(ValueError, match='portion'):
        PseudoLabelHook('a.pth', selection='cbst', portion=0.0)
    with pytest.raises(ValueError, match='threshold'):
        PseudoLabelHook('a.pth', selection='cbst', threshold=0.5)


def test_class_balanced_selection_forwarded(data, tmp_path):
    default = PseudoLabelHook('a.pth')
    assert default.kwargs['selection'] == 'fda'
    assert default.kwargs['portion'] == 0.2
    hook = dict(type='PseudoLabelHook', checkpoints=data['ckpt'],
                selection='cbst', portion=0.3)
    _, seen = _train(_cfg(data, tmp_path / 'work', hook, max_iters=1))
    out = osp.join(str(tmp_path / 'work'), 'pseudo_labels')
    settings = json.load(open(osp.join(out, 'manifest.json')))['settings']
    assert settings['selection'] == 'cbst' and settings['portion'] == 0.3
    assert settings['percentile'] is None and settings['cap'] is None
    _assert_labels_from(seen, out, osp.join(data['cs'], 'leftImg8bit',
                                            'train'))


def test_round_settings_apply_from_round_1(data, tmp_path):
    """Round 0 (stage 1) grayscale on source-styled images; the rounds the
    model being trained labels use ``round_settings`` (colour, no FDA)."""
    hook = dict(type='PseudoLabelHook', checkpoints=[data['ckpt']],
                interval=1, threshold=0.3, grayscale=True,
                round_settings=dict(grayscale=False, beta=None))
    _train(_cfg(data, tmp_path / 'work', hook, max_iters=2))
    root = osp.join(str(tmp_path / 'work'), 'pseudo_labels')
    first = json.load(open(osp.join(root, 'manifest.json')))['settings']
    later = json.load(open(osp.join(root, 'round_1',
                                    'manifest.json')))['settings']
    assert first['grayscale'] is True and first['beta'] == 0.01
    assert later['grayscale'] is False and later['beta'] is None
    with pytest.raises(ValueError, match='round_settings'):
        PseudoLabelHook('a.pth', round_settings=dict(gray=False))
    with pytest.raises(ValueError, match='percentile'):
        PseudoLabelHook('a.pth', round_settings=dict(percentile=66))


def test_rounds_config_relabels_in_colour():
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
        'configs', 'fdacl', 'deeplabv2_gta2cs_stage2-rounds.py'))
    (hook, ) = [h for h in cfg.custom_hooks if h.type == 'PseudoLabelHook']
    assert hook.grayscale is True and hook.interval == 30000
    assert hook.round_settings == dict(grayscale=False, beta=None)
