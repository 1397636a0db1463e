"""The own-data path of docs/custom_dataset.md on generated folders: five
classes (sky, sea, sand, rock, boat), their own palette and suffixes
(``.jpg`` images, ``_mask.png`` labels): tools/make_custom_config.py ->
tools/check_dataset.py -> stage 1 -> pseudo labels (PseudoLabelHook) ->
stage 2, and the DACS recipe, each a tiny model for a few iterations; then
tools/test.py and tools/infer.py on the result. The lean test builds the
written configs in process and trains one DACS iteration; an out-of-range
label in a training run names its file."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmseg_fdacl.datasets.checks import LabelValueError
from mmseg_fdacl.datasets.class_stats import dataset_class_stats
from mmseg_fdacl.datasets.custom_config import write_custom_configs
from mmseg_fdacl.datasets.dataset_check import check_config
from mmseg_fdacl.demo.custom_folders import (EXAMPLE_CLASSES,
                                             EXAMPLE_PALETTE,
                                             write_example_folders)
from tests.helpers import tiny_deeplabv2_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 48, 64
PALETTE_ARGS = [','.join(map(str, c)) for c in EXAMPLE_PALETTE]

# The written leaf with a tiny trunk and a few iterations; everything else
# (data, classes, method, hooks) is the leaf's.
TINY = '''
_base_ = {leaf!r}
_tiny = {tiny!r}
model = dict(
    pretrained=None,
    backbone=dict(_tiny['backbone'], _delete_=True),
    decode_head=dict(in_channels=32, dilations=(1, 2)),
    {extra})
train_cfg = dict(max_iters={iters}, val_interval={iters})
param_scheduler = [dict(type='PolyLR', power=0.9, begin=0, end={iters},
                        by_epoch=False)]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval={iters}))
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = dict(num_workers=0, persistent_workers=False)
'''


def _tiny(tmp_path, leaf, iters=2, extra=''):
    tiny = tiny_deeplabv2_cfg(num_classes=5)
    path = tmp_path / ('tiny_' + osp.basename(leaf))
    path.write_text(TINY.format(leaf=leaf, tiny=dict(
        backbone=tiny['backbone']), iters=iters, extra=extra))
    return str(path)


def _run(args, ok=True):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable] + args, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    if ok:
        assert proc.returncode == 0, out[-4000:]
    return proc.returncode, out


def _folders(tmp_path):
    root = str(tmp_path / 'coast')
    write_example_folders(root, num_source=6, num_target=6, num_val=2,
                          size=(H, W))
    return root


def _write(root, out, **kwargs):
    return write_custom_configs(
        'coast', EXAMPLE_CLASSES, EXAMPLE_PALETTE,
        f'{root}/source/images', f'{root}/source/labels',
        f'{root}/target/train', val_images=f'{root}/target/val/images',
        val_labels=f'{root}/target/val/labels', img_suffix='.jpg',
        seg_map_suffix='_mask.png', crop_size=(32, 48), out_dir=out,
        **kwargs)


@pytest.mark.slow
def test_custom_path_end_to_end(tmp_path):
    root = _folders(tmp_path)
    out = str(tmp_path / 'configs')
    _, log = _run([
        'tools/make_custom_config.py', 'coast', '--classes',
        *EXAMPLE_CLASSES, '--palette', *PALETTE_ARGS,
        '--source-images', f'{root}/source/images',
        '--source-labels', f'{root}/source/labels',
        '--target-images', f'{root}/target/train',
        '--val-images', f'{root}/target/val/images',
        '--val-labels', f'{root}/target/val/labels',
        '--img-suffix', '.jpg', '--seg-map-suffix', '_mask.png',
        '--crop-size', '32', '48', '--out', out])
    stage1 = f'{out}/deeplabv2_coast_stage1.py'
    stage2 = f'{out}/deeplabv2_coast_stage2.py'
    dacs = f'{out}/deeplabv2_coast_dacs.py'
    assert all(osp.isfile(p) for p in (stage1, stage2, dacs)), log
    _, log = _run(['tools/check_dataset.py', stage1])
    assert 'No fault found.' in log and 'boat' in log

    # stage 1
    work1 = str(tmp_path / 'work1')
    _, log = _run(['tools/train.py', _tiny(tmp_path, stage1), '--work-dir',
                   work1])
    assert 'loss_ent_trg' in log and re.search(r'mIoU: [0-9.]+', log)
    assert 'boat' in log  # the per-class table of the five classes
    ckpt1 = osp.join(work1, 'iter_2.pth')
    assert osp.isfile(ckpt1)

    # pseudo labels by hand (docs/custom_dataset.md), checked
    own = str(tmp_path / 'own_pseudo_labels')
    _run(['tools/generate_pseudo_labels.py', _tiny(tmp_path, stage1), ckpt1,
          '--grayscale', '--out', own])
    _, log = _run(['tools/check_dataset.py', stage1, '--pseudo-label-dir',
                   own])
    assert 'No fault found.' in log
    os.remove(sorted(glob.glob(osp.join(own, '**', '*.png'),
                               recursive=True))[0])
    code, log = _run(['tools/check_dataset.py', stage1,
                      '--pseudo-label-dir', own], ok=False)
    assert code == 1 and 'missing pseudo label' in log

    # stage 2: PseudoLabelHook labels the target from stage 1, then trains
    work2 = str(tmp_path / 'work2')
    _, log = _run([
        'tools/train.py', _tiny(tmp_path, stage2, extra=(
            'warmup_iters=0, contrast_loss=dict(max_samples=64)')),
        '--work-dir', work2, '--cfg-options', f'stage1_checkpoint={ckpt1}'])
    pl = osp.join(work2, 'pseudo_labels')
    manifest = json.load(open(osp.join(pl, 'manifest.json')))
    assert manifest['classes'] == list(EXAMPLE_CLASSES)
    assert len(glob.glob(osp.join(pl, '**', '*.png'), recursive=True)) == 6
    last = [ln for ln in log.splitlines() if 'Iter(train)' in ln][-1]
    assert float(re.search(r'loss_cl: ([0-9.e+-]+)', last).group(1)) > 0
    assert osp.isfile(osp.join(work2, 'iter_2.pth'))
    _, log = _run(['tools/check_dataset.py', stage2, '--pseudo-label-dir',
                   pl])
    assert 'pseudo' in log and 'No fault found.' in log

    # the online recipe
    work3 = str(tmp_path / 'work3')
    _, log = _run(['tools/train.py', _tiny(tmp_path, dacs), '--work-dir',
                   work3])
    assert 'loss_ce_mix' in log and 'loss_ce_src' in log, log[-3000:]
    ckpt3 = osp.join(work3, 'iter_2.pth')
    _, log = _run(['tools/test.py', _tiny(tmp_path, dacs), ckpt3,
                   '--work-dir', str(tmp_path / 'test')])
    assert re.search(r'mIoU: [0-9.]+', log) and 'sand' in log
    if osp.isfile(osp.join(ROOT, 'tools', 'infer.py')):
        pred = str(tmp_path / 'pred')
        _run(['tools/infer.py', _tiny(tmp_path, dacs), ckpt3,
              f'{root}/target/train', '--out', pred, '--weights', 'teacher'])
        assert len(glob.glob(osp.join(pred, 'labels', '*.png'))) == 6


def _cfg(path, tmp_path, iters=1, extra=''):
    cfg = Config.fromfile(_tiny(tmp_path, path, iters=iters, extra=extra))
    cfg.work_dir = str(tmp_path / 'work')
    return cfg


def test_written_configs_check_and_train_in_process(tmp_path):
    root = _folders(tmp_path)
    paths = _write(root, str(tmp_path / 'configs'))
    for key in ('stage1', 'stage2', 'dacs'):
        cfg = Config.fromfile(paths[key])
        assert cfg.model.decode_head.num_classes == 5
        assert cfg.train_dataloader.dataset.source.metainfo.classes == \
            EXAMPLE_CLASSES
        assert cfg.model.data_preprocessor['size'] == (32, 48)
    assert Config.fromfile(paths['dacs']).model.type == \
        'SelfTrainingEncoderDecoder'
    assert not [f for r in check_config(Config.fromfile(paths['stage1']))
                for f in r.faults]
    # class statistics, then DACS with rare class sampling as the page says
    stats = dataset_class_stats(
        Config.fromfile(paths['dacs']).train_dataloader.dataset.source)
    assert osp.isfile(osp.join(root, 'source', 'class_stats.json'))
    assert sum(stats['pixel_counts']) == 6 * H * W
    cfg = _cfg(paths['dacs'], tmp_path, extra='')
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_dataloader.dataset.rare_class_sampling = dict(
        class_stats='class_stats.json', min_pixels_fraction=0.0015)
    Runner.from_cfg(cfg).train()
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_1.pth'))


def test_no_validation_split(tmp_path):
    root = _folders(tmp_path)
    paths = write_custom_configs(
        'coast', EXAMPLE_CLASSES, EXAMPLE_PALETTE, f'{root}/source/images',
        f'{root}/source/labels', f'{root}/target/train', img_suffix='.jpg',
        seg_map_suffix='_mask.png', out_dir=str(tmp_path / 'c'))
    cfg = Config.fromfile(paths['stage1'])
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert [r.role for r in check_config(cfg)] == ['train/source',
                                                   'train/target']


def test_out_of_range_label_in_training_names_its_file(tmp_path):
    root = _folders(tmp_path)
    bad = osp.join(root, 'source', 'labels', 'coast_000_mask.png')
    label = cv2.imread(bad, cv2.IMREAD_UNCHANGED)
    label[:] = 5  # a sixth class in a five-class dataset: every crop has it
    cv2.imwrite(bad, label)
    paths = _write(root, str(tmp_path / 'configs'))
    cfg = _cfg(paths['stage1'], tmp_path, iters=6)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_dataloader.batch_size = 6  # every source image in a batch
    with pytest.raises(LabelValueError) as err:
        Runner.from_cfg(cfg).train()
    assert bad in str(err.value) and 'value(s) 5' in str(err.value)


@pytest.mark.parametrize('kwargs, match', [
    (dict(name='Coast'), 'name'),
    (dict(palette=EXAMPLE_PALETTE[:4]), 'palette'),
    (dict(palette=[(0, 0, 256)] * 5), 'palette colour'),
    (dict(classes=('a', 'a', 'b', 'c', 'd')), 'repeats'),
    (dict(val_images='x'), 'val_labels'),
])
def test_bad_arguments_are_named(tmp_path, kwargs, match):
    args = dict(name='coast', classes=EXAMPLE_CLASSES,
                palette=EXAMPLE_PALETTE, source_images='a',
                source_labels='b', target_images='c',
                out_dir=str(tmp_path))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        write_custom_configs(**args)


def test_stored_example_is_what_the_documented_command_writes(tmp_path):
    """configs/custom/coast/ is the template docs/custom_dataset.md shows:
    the output of its make_custom_config command."""
    stored = osp.join(ROOT, 'configs', 'custom', 'coast')
    d = 'data/coast'
    paths = write_custom_configs(
        'coast', EXAMPLE_CLASSES, EXAMPLE_PALETTE, f'{d}/source/images',
        f'{d}/source/labels', f'{d}/target/train',
        val_images=f'{d}/target/val/images',
        val_labels=f'{d}/target/val/labels', img_suffix='.jpg',
        seg_map_suffix='_mask.png', crop_size=(48, 64),
        out_dir=str(tmp_path))
    here = osp.relpath(osp.join(ROOT, 'configs', '_base_'), str(tmp_path))
    # the written files, plus the TensorBoard example of visualization.md
    assert sorted(os.listdir(stored)) == sorted(
        [osp.basename(p) for p in paths.values()] +
        ['deeplabv2_coast_dacs_tb.py'])
    for path in paths.values():
        with open(path) as f, open(osp.join(stored, osp.basename(path))) as g:
            assert f.read().replace(here, '../../_base_') == g.read(), path
    doc = open(osp.join(ROOT, 'docs', 'custom_dataset.md')).read()
    assert '--crop-size 48 64' in doc and '--seg-map-suffix _mask.png' in doc
