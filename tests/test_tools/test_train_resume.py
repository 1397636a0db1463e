"""tools/train.py and tools/test.py end to end on generated data trees.

Three subprocesses (about 10 s of imports each): train 4 iterations with
validation and checkpoints, resume to 6 iterations, test the checkpoint.
"""
import os.path as osp
import subprocess
import sys

import pytest
import torch

from tests.helpers import (make_cityscapes_tree, make_gta5_tree,
                           tiny_deeplabv2_cfg)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE = osp.join(REPO, 'configs', '_base_')


def _write_config(tmp_path) -> str:
    gta5 = make_gta5_tree(str(tmp_path / 'gta5'), num=4, size=(32, 64))
    cs = make_cityscapes_tree(
        str(tmp_path / 'cityscapes'), splits=(('val', 2), ), size=(32, 64))
    model = tiny_deeplabv2_cfg()
    model['data_preprocessor']['size'] = (32, 64)
    text = f'''
_base_ = [
    {osp.join(BASE, 'datasets', 'gta5_1280x720.py')!r},
    {osp.join(BASE, 'datasets', 'cityscapes_1024x512.py')!r},
    {osp.join(BASE, 'default_runtime.py')!r},
    {osp.join(BASE, 'schedules', 'schedule_sgd-poly_2k.py')!r},
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = {model!r}
source_data_root = {gta5!r}
target_data_root = {cs!r}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(32, 64)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 16), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=source_data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=target_data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0,
                        end=6, by_epoch=False)]
train_cfg = dict(max_iters=6, val_interval=2)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=2, save_best=None),
    visualization=dict(type='SegVisualizationHook'))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
'''
    path = tmp_path / 'tiny_source-only.py'
    path.write_text(text)
    return str(path)


def _run(args, timeout=300) -> str:
    proc = subprocess.run(
        [sys.executable] + args,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def test_train_resume_and_test(tmp_path):
    cfg = _write_config(tmp_path)
    work_dir = tmp_path / 'work'
    # An interrupted run: stop a 6-iteration schedule after 4 iterations.
    out = _run([
        'tools/train.py', cfg, '--work-dir',
        str(work_dir), '--cfg-options', 'train_cfg.max_iters=4'
    ])
    assert (work_dir / 'iter_4.pth').is_file()
    assert 'per class results' in out and 'mIoU' in out
    first = torch.load(work_dir / 'iter_4.pth', weights_only=True)
    assert first['meta']['iter'] == 4

    # Resume from the latest checkpoint: the run starts at iteration 5.
    out = _run(
        ['tools/train.py', cfg, '--work-dir',
         str(work_dir), '--resume'])
    assert 'resumed epoch: 0, iter: 4' in out
    assert 'Loads checkpoint by local_safe backend' in out
    assert 'Iter(train) [5/6]' in out and 'Iter(train) [1/6]' not in out
    last = torch.load(work_dir / 'iter_6.pth', weights_only=True)
    assert last['meta']['iter'] == 6
    # Training really continued: weights and optimizer state moved on.
    key = 'decode_head.aspp_modules.0.weight'
    assert not torch.equal(first['state_dict'][key], last['state_dict'][key])
    assert set(last['optimizer']['state']) == set(first['optimizer']['state'])
    assert 'message_hub' in last and 'param_schedulers' in last

    # tools/test.py loads it (load_from) and evaluates with IoUMetric.
    show_dir = tmp_path / 'show'
    out = _run([
        'tools/test.py', cfg,
        str(work_dir / 'iter_6.pth'), '--work-dir',
        str(tmp_path / 'test'), '--show-dir',
        str(show_dir), '--cfg-options',
        'default_hooks.visualization.interval=1'
    ])
    assert 'per class results' in out and 'mIoU' in out
    # --show-dir paints every test image (MMSeg's SegVisualizationHook).
    assert len(list(show_dir.rglob('*.png'))) == 2


def test_cli_arguments_map_onto_config(tmp_path):
    sys.path.insert(0, osp.join(REPO, 'tools'))
    try:
        import test as test_tool
        import train as train_tool
    finally:
        sys.path.remove(osp.join(REPO, 'tools'))
    cfg = _write_config(tmp_path)
    args = train_tool.parse_args([cfg, '--resume'])
    built = train_tool.build_config(args)
    assert built.resume is True and built.load_from is None
    assert built.work_dir.endswith('tiny_source-only')
    ckpt = tmp_path / 'x.pth'
    torch.save({'state_dict': {}}, ckpt)
    built = train_tool.build_config(
        train_tool.parse_args([cfg, '--resume', str(ckpt)]))
    assert built.resume is True and built.load_from == str(ckpt)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        train_tool.build_config(
            train_tool.parse_args([cfg, '--resume', 'missing.pth']))
    built = train_tool.build_config(train_tool.parse_args([cfg, '--amp']))
    assert built.optim_wrapper.type == 'NonFiniteGuardAmpOptimWrapper'

    built = test_tool.build_config(
        test_tool.parse_args([cfg, str(ckpt), '--tta', '--out', 'o']))
    assert built.model.type == 'SegTTAModel'
    assert built.model.module.type == 'EncoderDecoder'
    assert built.test_dataloader.dataset.pipeline[1].type == 'TestTimeAug'
    assert built.load_from == str(ckpt)
    assert built.test_evaluator.output_dir == 'o'
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        test_tool.build_config(test_tool.parse_args([cfg, 'nope.pth']))
