"""End to end: tools/train.py on the stage-2 config (tiny model, generated
GTA5/Cityscapes trees), then tools/test.py on its checkpoint with the plain
DeepLabV2 config, both as subprocesses like a user runs them."""
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import torch
from mmengine.config import ConfigDict
from mmseg.registry import MODELS

from mmseg_fdacl.utils import pseudo_label_path
from tests.helpers import (make_cityscapes_tree, make_gta5_tree,
                           tiny_deeplabv2_cfg)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 32, 64

# Tiny model, data roots and small pipelines merged into the real configs.
TINY = '''
_base_ = {base!r}
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
_tiny = {tiny!r}
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=({h}, {w})),
    backbone=dict(_tiny['backbone'], _delete_=True),
    decode_head=dict(_tiny['decode_head'], _delete_=True),
    {model_extra})
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root={trg!r}, pipeline=[
        dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')]))
test_dataloader = val_dataloader
default_hooks = dict(logger=dict(interval=1))
'''

TRAIN = '''
load_from = {load_from!r}
{hooks}
train_cfg = dict(max_iters=4, val_interval=4)
param_scheduler = [dict(type='PolyLR', power=0.9, begin=0, end=4,
                        by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(
        pseudo_label_dir={pl},
        source=dict(data_root={src!r}, pipeline=[
            dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='RandomCrop', crop_size=(24, 48)),
            dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]),
        target=dict(data_root={trg!r}, pipeline=[
            dict(type='LoadImageFromFile'), dict(type='LoadPseudoLabel'),
            dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')])))
'''


def _run(args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def test_stage2_train_then_plain_test(tmp_path):
    src = make_gta5_tree(str(tmp_path / 'gta5'), num=4, size=(H, W))
    trg = make_cityscapes_tree(str(tmp_path / 'cityscapes'),
                               splits=(('train', 4), ('val', 2)),
                               size=(H, W))
    # pseudo labels: the train labels (the "CL using GT" upper bound)
    img_root = osp.join(trg, 'leftImg8bit', 'train')
    pl = str(tmp_path / 'pseudo_labels')
    for dirpath, _, files in os.walk(img_root):
        for f in files:
            img = osp.join(dirpath, f)
            gt = img.replace('leftImg8bit', 'gtFine', 1).replace(
                '_leftImg8bit.png', '_gtFine_labelTrainIds.png')
            out = pseudo_label_path(img, img_root, pl)
            os.makedirs(osp.dirname(out), exist_ok=True)
            cv2.imwrite(out, cv2.imread(gt, cv2.IMREAD_UNCHANGED))
    # a "stage-1" checkpoint: a plain tiny DeepLabV2's weights
    stage1 = str(tmp_path / 'stage1.pth')
    torch.save({'state_dict':
                MODELS.build(ConfigDict(tiny_deeplabv2_cfg())).state_dict(),
                'meta': {}}, stage1)

    tiny = tiny_deeplabv2_cfg()
    fmt = dict(tiny=dict(backbone=tiny['backbone'],
                         decode_head=tiny['decode_head']),
               h=H, w=W, src=src, trg=trg, pl=repr(pl), load_from=stage1,
               # a folder made beforehand: no PseudoLabelHook
               hooks='custom_hooks = []')
    stage2_cfg = tmp_path / 'stage2_tiny.py'
    stage2_cfg.write_text(
        TINY.format(base=osp.join(ROOT, 'configs', 'fdacl',
                                  'deeplabv2_gta2cs_stage2.py'),
                    model_extra='warmup_iters=2, contrast_loss=dict('
                    'max_samples=64)', **fmt) +
        TRAIN.format(**fmt))
    work = tmp_path / 'work'
    log = _run(['tools/train.py', str(stage2_cfg), '--work-dir', str(work)],
               ROOT)
    assert 'Load checkpoint from' in log and 'stage1.pth' in log
    for key in ('loss_ce_src', 'acc_seg_src', 'loss_ent_trg', 'loss_cl'):
        assert key in log, key
    # after the warm-up (iter >= 2) the target terms are on and finite
    iters = [ln for ln in log.splitlines() if 'Iter(train)' in ln]
    assert iters, log[-3000:]
    last = iters[-1]
    assert '[4/4]' in last, iters
    for key in ('loss_ent_trg', 'loss_cl'):
        value = float(re.search(key + r': ([0-9.e+-]+)', last).group(1))
        assert value > 0, (key, last)
    assert re.search(r'mIoU: [0-9.]+', log), log[-3000:]
    ckpt = work / 'iter_4.pth'
    assert ckpt.is_file()

    # tools/test.py: the stage-2 checkpoint in the plain DeepLabV2 config
    plain_cfg = tmp_path / 'plain_tiny.py'
    plain_cfg.write_text(
        TINY.format(base=osp.join(ROOT, 'configs', 'fdacl',
                                  'deeplabv2_gta2cs_source-only.py'),
                    model_extra='', **fmt))
    log = _run(['tools/test.py', str(plain_cfg), str(ckpt), '--work-dir',
                str(tmp_path / 'test')], ROOT)
    assert re.search(r'mIoU: [0-9.]+', log), log[-3000:]
    assert 'road' in log  # the per-class table
    # the plain model got every weight it has (aux-free stage 2: no extras)
    assert 'missing keys' not in log


def test_card_command_makes_pseudo_labels_from_a_stage1_checkpoint(tmp_path):
    """`tools/train.py STAGE2 --cfg-options stage1_checkpoint=PATH`: the
    stage-2 config's PseudoLabelHook labels the target set from that
    checkpoint, then stage 2 trains on them; a second run reuses them."""
    src = make_gta5_tree(str(tmp_path / 'gta5'), num=4, size=(H, W))
    trg = make_cityscapes_tree(str(tmp_path / 'cityscapes'),
                               splits=(('train', 4), ('val', 2)),
                               size=(H, W))
    stage1 = str(tmp_path / 'stage1.pth')
    torch.save({'state_dict':
                MODELS.build(ConfigDict(tiny_deeplabv2_cfg())).state_dict(),
                'meta': {}}, stage1)
    tiny = tiny_deeplabv2_cfg()
    fmt = dict(tiny=dict(backbone=tiny['backbone'],
                         decode_head=tiny['decode_head']),
               h=H, w=W, src=src, trg=trg, pl=None, load_from=None,
               hooks="pseudo_label_pipeline = [dict(type='LoadImageFromFile'"
               "), dict(type='PackSegInputs')]")
    cfg = tmp_path / 'stage2_tiny.py'
    cfg.write_text(
        TINY.format(base=osp.join(ROOT, 'configs', 'fdacl',
                                  'deeplabv2_gta2cs_stage2.py'),
                    model_extra='warmup_iters=2, contrast_loss=dict('
                    'max_samples=64)', **fmt) + TRAIN.format(**fmt))
    work = tmp_path / 'work'
    cmd = ['tools/train.py', str(cfg), '--work-dir', str(work),
           '--cfg-options', f'stage1_checkpoint={stage1}']
    log = _run(cmd, ROOT)
    manifest = work / 'pseudo_labels' / 'manifest.json'
    assert manifest.is_file(), log[-3000:]
    import json
    meta = json.loads(manifest.read_text())
    assert meta['complete'] and len(meta['checkpoints']) == 1
    pngs = [f for _, _, fs in os.walk(work / 'pseudo_labels') for f in fs
            if f.endswith('.png')]
    assert len(pngs) == 4
    assert 'training on the pseudo labels in' in log
    assert '[4/4]' in [ln for ln in log.splitlines()
                       if 'Iter(train)' in ln][-1]
    value = float(re.search(r'loss_cl: ([0-9.e+-]+)', log.splitlines()[
        [i for i, ln in enumerate(log.splitlines())
         if 'Iter(train) [4/4]' in ln][-1]]).group(1))
    assert value > 0
    # the same command again: the complete set is reused, not rewritten
    mtime = manifest.stat().st_mtime_ns
    _run(cmd + ['train_cfg.max_iters=1'], ROOT)
    assert manifest.stat().st_mtime_ns == mtime
    # no stage-1 checkpoint: a clear error naming the variable
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(cfg), '--work-dir',
         str(tmp_path / 'w2'), '--cfg-options',
         f'stage1_checkpoint={tmp_path}/missing.pth'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert 'stage1_checkpoint' in proc.stdout + proc.stderr
