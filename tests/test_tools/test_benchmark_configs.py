"""Every SYNTHIA -> Cityscapes, Cityscapes -> ACDC and Cityscapes -> Dark
Zurich leaf (DeepLabV2 and DAFormer MiT-B5) trains 2 iterations on generated
trees in the real layouts with its own method, hooks, dataset options and
schedule (only the trunk (a tiny DeepLabV2 or a tiny MiT with the DAFormer
head), the data roots and the sizes are made tiny), then tools/test.py's
path (Runner.test) runs its test set: SYNTHIA leaves report mIoU16/mIoU13, ACDC and Dark Zurich
leaves write the server's files. One leaf per benchmark runs in the default
suite, the others are marked slow."""
import fnmatch
import glob
import os
import os.path as osp
import runpy

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner
from mmseg.registry import MODELS

from mmseg_fdacl.datasets.class_stats import dataset_class_stats
from mmseg_fdacl.datasets.synthia import convert_synthia_labels
from mmseg_fdacl.demo.runs import runner_cfg
from tests.dataset_trees import (make_acdc_tree, make_dark_zurich_tree,
                                 make_synthia_tree)
from tests.helpers import (make_cityscapes_tree, tiny_deeplabv2_cfg,
                           tiny_mit_daformer_cfg)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PATTERNS = ('synthia-*_cityscapes-*', 'cityscapes-*_acdc-*',
            'cityscapes-*_dark-zurich-*')
PREFIXES = ('deeplabv2_r101-d8_*', 'daformer_mit-b5_1xb2-40k')
CONFIGS = sorted(
    osp.relpath(p, ROOT) for pattern in PATTERNS for prefix in PREFIXES
    for p in glob.glob(osp.join(ROOT, 'configs', 'fdacl',
                                f'{prefix}_{pattern}.py')))
# In the default suite: one leaf per benchmark, together covering stage 2
# (pseudo labels), rare class sampling and the two server formats.
FAST = ('uda-stage2-fda-cl-ent_1xb1-60k_cityscapes-1024x512_acdc',
        'mic_1xb2-40k_synthia', 'daformer-recipe_1xb2-40k_cityscapes-512x512_'
        'dark-zurich')
CROP = (32, 32)


def _params():
    for path in CONFIGS:
        fast = any(f in path for f in FAST)
        yield pytest.param(path, marks=() if fast else pytest.mark.slow,
                           id=osp.basename(path).replace('deeplabv2_r101-d8_',
                                                          ''))


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('benchmark_data')
    synthia = make_synthia_tree(str(root / 'synthia'), num=4)
    convert_synthia_labels(synthia)
    cityscapes = make_cityscapes_tree(str(root / 'cityscapes'),
                                      splits=(('train', 4), ('val', 2)))
    # Cityscapes as a source: its statistics, as users write them.
    dataset_class_stats(dict(
        type='CityscapesDataset', data_root=cityscapes,
        data_prefix=dict(img_path='leftImg8bit/train',
                         seg_map_path='gtFine/train')))
    acdc = make_acdc_tree(str(root / 'acdc'), splits=(
        ('train', 1), ('val', 1), ('test', 1)))
    dz = make_dark_zurich_tree(str(root / 'dz'), num_train=2, num_val=1,
                               num_test=2)
    return dict(synthia=synthia, cityscapes=cityscapes, acdc=acdc, dz=dz)


def _roots(path, data):
    name = osp.basename(path)
    if '_synthia-' in name:
        return data['synthia'], data['cityscapes']
    return data['cityscapes'], data['acdc' if '_acdc-' in name else 'dz']


def _shrink(pipeline, crop=True):
    for t in pipeline:
        if t['type'] == 'Resize':
            t.update(scale=(64, 32), keep_ratio=False)
        if t['type'] == 'RandomCrop':
            t['crop_size'] = CROP
    if crop and not any(t['type'] == 'RandomCrop' for t in pipeline):
        pipeline.insert(-1, dict(type='RandomCrop', crop_size=CROP))


def _tiny(path, data, work_dir):
    cfg = Config.fromfile(osp.join(ROOT, path))
    src, trg = _roots(path, data)
    daformer = osp.basename(path).startswith('daformer_')
    tiny = tiny_mit_daformer_cfg() if daformer else tiny_deeplabv2_cfg()
    model = cfg.model
    model.backbone = tiny['backbone']
    model.decode_head = dict(tiny['decode_head'],
                             loss_decode=model.decode_head.loss_decode)
    model.pretrained = None
    os.makedirs(work_dir, exist_ok=True)
    if model.get('imnet_feature_dist'):
        model.pretrained = osp.join(work_dir, 'imnet.pth')
        backbone = MODELS.build(ConfigDict(tiny['backbone']))
        torch.save(dict(state_dict=backbone.state_dict()), model.pretrained)
    if cfg.get('stage1_checkpoint'):
        cfg.stage1_checkpoint = osp.join(work_dir, 'stage1.pth')
        torch.save(dict(state_dict=MODELS.build(
            ConfigDict(tiny_deeplabv2_cfg())).state_dict(), meta={}),
            cfg.stage1_checkpoint)
    if model.get('contrast_loss'):
        model.contrast_loss.max_samples = 64
    model.data_preprocessor.size = CROP
    if 'mask' in model:
        model.mask.block_size = 8
    ds = cfg.train_dataloader.dataset
    source = ds.source if ds.type == 'UDADataset' else ds
    source.data_root = src
    _shrink(source.pipeline)
    if ds.type == 'UDADataset':
        ds.target.data_root = trg
        _shrink(ds.target.pipeline)
    if ds.get('rare_class_sampling'):
        ds.rare_class_sampling.min_pixels = 10
    if cfg.get('pseudo_label_pipeline'):
        _shrink(cfg.pseudo_label_pipeline, crop=False)
    cfg.train_dataloader.update(batch_size=2, num_workers=0,
                                persistent_workers=False)
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.data_root = trg
    _shrink(cfg.test_dataloader.dataset.pipeline, crop=False)
    if cfg.test_evaluator.type == 'BenchmarkSubmissionMetric':
        cfg.test_evaluator.output_dir = osp.join(work_dir, 'submission')
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.pop('val_interval', None)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint.update(interval=2, save_best=None)
    cfg.default_hooks.logger.interval = 1
    cfg.env_cfg.mp_cfg = dict(mp_start_method='fork', opencv_num_threads=0)
    return runner_cfg(cfg, work_dir)


def test_every_benchmark_leaf_is_found():
    names = [osp.basename(p) for p in CONFIGS]
    assert len(names) == 21
    for pattern in PATTERNS:
        kinds = [n for n in names if fnmatch.fnmatch(
            n, f'*_{pattern}.py')]
        assert len(kinds) == 7, (pattern, kinds)
        assert sum(n.startswith('daformer_mit-b5_') for n in kinds) == 1
    assert len([p for p in CONFIGS if any(f in p for f in FAST)]) == 3


@pytest.mark.parametrize('path', _params())
def test_benchmark_config_trains_and_tests(path, data, tmp_path):
    work = str(tmp_path / 'train')
    cfg = _tiny(path, data, work)
    runner = Runner.from_cfg(cfg)
    runner.train()
    logs = runner.message_hub.log_scalars
    assert any(k.startswith('train/loss') for k in logs), sorted(logs)
    if osp.basename(path).startswith('daformer_'):
        assert cfg.model.backbone.type == 'MixVisionTransformer'
        assert cfg.model.decode_head.type == 'DAFormerHead'
        for key in ('loss_ce_src', 'loss_ce_mix', 'loss_imnet_fd',
                    'pl_quality'):
            assert f'train/{key}' in logs, key
    if cfg.model.type == 'SelfTrainingEncoderDecoder':
        assert 'train/loss_ce_mix' in logs, sorted(logs)
        if cfg.model.get('lambda_mask'):
            assert 'train/loss_ce_masked' in logs
    if cfg.get('stage1_checkpoint'):
        # PseudoLabelHook labelled every target image before training.
        target = runner.train_dataloader.dataset.target
        labels = glob.glob(osp.join(work, 'pseudo_labels', '**', '*.png'),
                           recursive=True)
        assert len(labels) == len(target) > 0
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)
    test = runner_cfg(cfg, str(tmp_path / 'test'))
    evaluator = cfg.test_evaluator
    if evaluator.type == 'ClassSubsetIoUMetric':
        test.load_from = ckpt
        metrics = Runner.from_cfg(test).test()
        assert {'mIoU', 'mIoU16', 'mIoU13'} <= set(metrics), metrics
        return
    # The test split through tools/test.py CONFIG CKPT --out DIR.
    assert evaluator.type == 'BenchmarkSubmissionMetric'
    cfg_file = str(tmp_path / 'tiny_config.py')
    test.dump(cfg_file)
    out = str(tmp_path / 'submission')
    tool = runpy.run_path(osp.join(ROOT, 'tools', 'test.py'),
                          run_name='tools_test')
    tool['main']([cfg_file, ckpt, '--out', out,
                  '--work-dir', str(tmp_path / 'test')])
    if evaluator.server == 'acdc':
        files = sorted(os.listdir(out))
        assert len(files) == 4, files  # one test frame per condition
        assert all(f.endswith('_rgb_anon.png') for f in files)
    else:
        for folder in ('labelTrainIds', 'labelTrainIds_invalid',
                       'confidence'):
            files = sorted(os.listdir(osp.join(out, folder)))
            assert files == ['GOPR0364_frame_000000_rgb_anon.png',
                             'GOPR0364_frame_000001_rgb_anon.png'], files
