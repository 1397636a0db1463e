"""Every online self-training config (DeepLabV2 and demo) trains a few
iterations on generated data with its own method switches, hooks, dataset
options and schedule; only the trunk, the data roots and the sizes are made
tiny. Then tools/test.py's path (Runner.test) evaluates its checkpoint."""
import glob
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner
from mmseg.registry import MODELS

from mmseg_fdacl.datasets.gta5 import convert_gta5_labels
from mmseg_fdacl.demo.runs import runner_cfg
from mmseg_fdacl.demo.spec import DEMO_TRANSFORMER
from tests.helpers import (make_cityscapes_tree, make_gta5_tree,
                           tiny_deeplabv2_cfg)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    osp.relpath(p, ROOT) for pattern in (
        'configs/fdacl/deeplabv2_r101-d8_*_gta5-512x512_cityscapes-512x512.py',
        'configs/fdacl/demo/online_*.py')
    for p in glob.glob(osp.join(ROOT, pattern))
    # The transformer rows' own networks (MiT, HRDA): their test is
    # tests/test_demo/test_transformer_rows.py.
    if osp.relpath(p, ROOT) not in DEMO_TRANSFORMER.values())
CROP = (32, 32)


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('online_data')
    gta = make_gta5_tree(str(root / 'gta5'), num=6, seed=0,
                         with_train_ids=False)
    convert_gta5_labels(gta)  # labels and class_stats.json, as users do
    cs = make_cityscapes_tree(str(root / 'cityscapes'),
                              splits=(('train', 4), ('val', 2)))
    return dict(gta5=gta, cityscapes=cs)


def _shrink_pipeline(pipeline):
    for t in pipeline:
        if t['type'] == 'Resize':
            t.update(scale=(64, 32), keep_ratio=False)
        if t['type'] == 'RandomCrop':
            t['crop_size'] = CROP
    if not any(t['type'] == 'RandomCrop' for t in pipeline):
        pipeline.insert(-1, dict(type='RandomCrop', crop_size=CROP))


def _tiny(path, data, work_dir, tiny=None):
    """``path`` with the tiny DeepLabV2 (or the ``tiny`` backbone and decode
    head), generated data, 2 iterations, no validation."""
    cfg = Config.fromfile(osp.join(ROOT, path))
    tiny = tiny or tiny_deeplabv2_cfg()
    model = cfg.model
    model.backbone = tiny['backbone']
    model.decode_head = tiny['decode_head']
    model.pretrained = None
    if model.get('imnet_feature_dist'):
        # "ImageNet" weights of the tiny trunk for the feature distance.
        model.pretrained = osp.join(work_dir, 'imnet.pth')
        os.makedirs(work_dir, exist_ok=True)
        backbone = MODELS.build(ConfigDict(tiny['backbone']))
        torch.save(dict(state_dict=backbone.state_dict()), model.pretrained)
    model.data_preprocessor.size = CROP
    if 'mask' in model:
        model.mask.block_size = 8
    ds = cfg.train_dataloader.dataset
    ds.source.data_root = data['gta5']
    ds.target.data_root = data['cityscapes']
    _shrink_pipeline(ds.source.pipeline)
    _shrink_pipeline(ds.target.pipeline)
    rcs = ds.get('rare_class_sampling')
    if rcs and rcs.get('min_pixels_fraction') is None:
        # DAFormer's 3000 px exceed every class of the 32x64 frames.
        rcs.min_pixels = 10
    cfg.train_dataloader.update(batch_size=2, num_workers=0,
                                persistent_workers=False)
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.data_root = data['cityscapes']
    for t in cfg.test_dataloader.dataset.pipeline:
        if t['type'] == 'Resize':
            t.update(scale=(64, 32), keep_ratio=False)
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.pop('val_interval', None)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint.update(interval=2, save_best=None)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook')
    cfg.env_cfg.mp_cfg = dict(mp_start_method='fork', opencv_num_threads=0)
    return runner_cfg(cfg, work_dir)


def test_every_online_config_is_found():
    names = [osp.basename(p) for p in CONFIGS]
    for method in ('dacs', 'daformer-recipe', 'mic', 'fda-cl-online'):
        assert any(f'_{method}_' in n for n in names), method
    assert len([n for n in names if n.startswith('online_')]) == 4


@pytest.mark.parametrize('path', CONFIGS)
def test_online_config_trains_and_tests(path, data, tmp_path):
    cfg = _tiny(path, data, str(tmp_path / 'train'))
    assert cfg.model.type == 'SelfTrainingEncoderDecoder'
    assert any(h['type'] == 'MeanTeacherHook' for h in cfg.custom_hooks)
    runner = Runner.from_cfg(cfg)
    runner.train()
    logs = runner.message_hub.log_scalars
    assert 'train/loss_ce_src' in logs and 'train/pl_quality' in logs
    assert 'train/loss_ce_mix' in logs, sorted(logs)
    if cfg.model.get('lambda_mask'):
        assert 'train/loss_ce_masked' in logs
    if cfg.model.get('lambda_cl'):
        assert 'train/loss_cl' in logs
    if cfg.model.get('imnet_feature_dist'):
        assert 'train/loss_imnet_fd' in logs
    ckpt_path = osp.join(str(tmp_path / 'train'), 'iter_2.pth')
    ckpt = torch.load(ckpt_path, weights_only=True)
    assert int(ckpt['mean_teacher']['steps']) == 3
    # tools/test.py's path on the same config: the student is evaluated.
    test = runner_cfg(cfg, str(tmp_path / 'test'))
    test.load_from = ckpt_path
    metrics = Runner.from_cfg(test).test()
    assert 'mIoU' in metrics
