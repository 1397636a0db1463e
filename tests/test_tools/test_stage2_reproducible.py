"""The demo's stage 2 (configs/fdacl/demo/stage2.py itself) is reproducible.

Inputs are made here the cheap way: the generated two-domain data at the
demo's frame size (4 source, 4 target images), a 1-iteration stage 1 and its
pseudo labels (the pipeline's own steps). Then ``tools/train.py
configs/fdacl/demo/stage2.py`` runs in subprocesses with two intra-op threads
(the non-determinism behind issue "stage 2 is not reproducible" needs more
than one; the fault suite runs with one) for one or two iterations, and every
tensor of the final checkpoints (weights, buffers, optimizer state) is
compared exactly (two processes each time, so that process-level effects
count too):

* ``default`` (the config as it is), two iterations: a second run, SIGKILLed
  after iteration 1 (the fault kit's ``KillAtIterHook``, added by a
  three-line child config), has the same iteration-1 checkpoint as the
  first; resumed with ``--resume`` it ends identical to the uninterrupted
  run;
* ``supcon``: the contrastive loss in its SupCon form, the demo's loss when
  the issue was measured. Its class sums are read back with
  ``class_sum[inverse]`` had a backward (``index_put_`` with
  ``accumulate=True``) that adds with parallel atomics on the CPU, so the
  first gradient (the decode head's) differed from run to run; the loss now
  gathers with ``index_select``.
"""
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List

import pytest
import torch

from mmseg_fdacl.demo.pipeline import Pipeline

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs', 'fdacl', 'demo')
STAGE2 = osp.join(DEMO, 'stage2.py')
THREADS = '2'
SUPCON = 'model.contrast_loss.form=supcon'
# mode -> (extra --cfg-options, iterations)
MODES = {
    'default': ([], 2),
    'supcon': ([SUPCON], 1),
}
KILL_AT = 1


@pytest.fixture(scope='module')
def inputs(tmp_path_factory) -> Dict[str, str]:
    """Data, a stage-1 checkpoint and its pseudo labels (demo frame size)."""
    root = tmp_path_factory.mktemp('stage2_repro')
    data = str(root / 'data')
    opts = {
        'train_cfg.max_iters': 1,
        'param_scheduler': [
            dict(type='ConstantLR', factor=1.0, begin=0, end=1,
                 by_epoch=False)
        ],
        'default_hooks.checkpoint.interval': 1,
        'train_dataloader.dataset.source.data_root': data + '/gta5',
        'train_dataloader.dataset.target.data_root': data + '/cityscapes',
        'test_dataloader.dataset.data_root': data + '/cityscapes',
    }
    spec = dict(
        work_dir=str(root / 'work'),
        data=dict(
            out_dir=data,
            num_source=4,
            num_target_train=4,
            num_target_val=1,
            size=(128, 256),
            seed=0,
            nproc=1),
        configs=dict(
            source_only=osp.join(DEMO, 'source-only.py'),
            stage1=osp.join(DEMO, 'stage1.py'),
            stage2=STAGE2),
        cfg_options=dict(stage1=opts, stage2=opts),
        pseudo_labels=dict(beta=0.01, percentile=0.66, cap=0.9, seed=0),
        stage2_load_from_stage1=True)
    pipe = Pipeline(spec, log=lambda msg: None)
    pipe.run(only=['data', 'stage1', 'pseudo_labels'])
    kill_cfg = root / 'stage2_killed.py'
    kill_cfg.write_text(
        f'_base_ = {STAGE2!r}\n'
        "custom_imports = dict(imports=['mmseg_fdacl', "
        "'tests.test_faults.faultkit'], allow_failed_imports=False)\n"
        f"custom_hooks = [dict(type='KillAtIterHook', kill_at={KILL_AT})]\n")
    return dict(
        root=str(root),
        data=data,
        stage1=osp.join(spec['work_dir'], 'stage1', 'iter_1.pth'),
        pseudo_labels=pipe.pseudo_label_dir,
        kill_cfg=str(kill_cfg))


def _train(inputs,
           work_dir: str,
           mode: str,
           *,
           config: str = STAGE2,
           resume: bool = False,
           extra: List[str] = ()) -> subprocess.CompletedProcess:
    data = inputs['data']
    options = [
        f'load_from={inputs["stage1"]}',
        f'train_dataloader.dataset.pseudo_label_dir={inputs["pseudo_labels"]}',
        f'train_dataloader.dataset.source.data_root={data}/gta5',
        f'train_dataloader.dataset.target.data_root={data}/cityscapes',
        f'test_dataloader.dataset.data_root={data}/cityscapes',
        f'train_cfg.max_iters={MODES[mode][1]}',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1',
    ] + MODES[mode][0] + list(extra)
    cmd = [sys.executable, 'tools/train.py', config, '--work-dir', work_dir]
    if resume:
        cmd.append('--resume')
    env = dict(os.environ)
    env.update(
        PYTHONPATH=REPO + os.pathsep + env.get('PYTHONPATH', ''),
        OMP_NUM_THREADS=THREADS,
        MKL_NUM_THREADS=THREADS,
        CUDA_VISIBLE_DEVICES='')
    return subprocess.run(
        cmd + ['--cfg-options'] + options,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)


def _checkpoint(work_dir: str, it: int) -> Dict[str, torch.Tensor]:
    """Every tensor of ``iter_{it}.pth``: weights, buffers, optimizer."""
    ckpt = torch.load(
        osp.join(work_dir, f'iter_{it}.pth'),
        map_location='cpu',
        weights_only=True)
    assert ckpt['meta']['iter'] == it
    out = {f'state_dict.{k}': v for k, v in ckpt['state_dict'].items()}
    for pid, state in ckpt['optimizer']['state'].items():
        for k, v in state.items():
            out[f'optimizer.{pid}.{k}'] = torch.as_tensor(v)
    return out


def _assert_same(a: Dict[str, torch.Tensor],
                 b: Dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    diff = [
        f'{k} (max |diff| {(a[k].double() - b[k].double()).abs().max():.3g})'
        for k in a if not torch.equal(a[k], b[k])
    ]
    assert not diff, f'{len(diff)} of {len(a)} tensors differ: {diff[:5]}'


def _ok(res: subprocess.CompletedProcess) -> None:
    """A failed run is an error with its log, not a state difference."""
    if res.returncode != 0:
        raise RuntimeError(f'tools/train.py exited with {res.returncode}:\n'
                           f'{res.stderr[-4000:]}')


_done: Dict[str, str] = {}


def _run(inputs, mode: str, name: str) -> str:
    """Work dir of run ``name`` of a mode, trained once per module:
    ``reference`` (every checkpoint kept), ``again``, or ``killed``
    (SIGKILLed after iteration ``KILL_AT``)."""
    key = f'{mode}_{name}'
    if key not in _done:
        work = osp.join(inputs['root'], key)
        if name == 'killed':
            res = _train(inputs, work, mode, config=inputs['kill_cfg'])
            assert res.returncode == -9, res.stderr[-4000:]  # SIGKILL
        else:
            extra = (['default_hooks.checkpoint.max_keep_ckpts=-1']
                     if name == 'reference' else [])
            _ok(_train(inputs, work, mode, extra=extra))
        _done[key] = work
    return _done[key]


@pytest.mark.parametrize('mode', ['default', 'supcon'])
def test_stage2_twice_is_bit_identical(inputs, mode):
    ref = _run(inputs, mode, 'reference')
    if mode == 'default':
        # The killed run is a second run up to its checkpoint.
        other, it = _run(inputs, mode, 'killed'), KILL_AT
    else:
        other, it = _run(inputs, mode, 'again'), MODES[mode][1]
    _assert_same(_checkpoint(ref, it), _checkpoint(other, it))


def test_stage2_sigkill_and_resume_is_bit_identical(inputs):
    mode = 'default'
    iters = MODES[mode][1]
    ref = _run(inputs, mode, 'reference')
    work = _run(inputs, mode, 'killed')
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().strip().endswith(f'iter_{KILL_AT}.pth')
    assert not osp.exists(osp.join(work, f'iter_{iters}.pth'))

    res = _train(inputs, work, mode, resume=True)
    _ok(res)
    log = res.stdout + res.stderr
    assert f'resuming at iteration {KILL_AT}' in log
    assert (f'restored RNG states of 1 process(es) saved at iteration '
            f'{KILL_AT}') in log
    _assert_same(_checkpoint(ref, iters), _checkpoint(work, iters))
