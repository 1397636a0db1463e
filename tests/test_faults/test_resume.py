"""Exact resume: a stage-2 run (UDA pairing, FDA sampling, pseudo labels,
random crops/flips) SIGKILLed after iteration k and resumed with
``tools/train.py --resume`` ends bit-identical to an uninterrupted run
(CPU, num_workers=0)."""
import os.path as osp

import torch

from mmseg_fdacl.datasets.samplers import ResumableInfiniteSampler
from mmseg_fdacl.engine.hooks.rng_state_hook import (get_global_rng_state,
                                                     set_global_rng_state)
from tests.test_faults import faultkit as fk


def _train(cfg, path, *extra):
    fk.write_cfg(cfg, path)
    return fk.run([fk.PY, 'tools/train.py', path, *extra])


def test_sigkill_and_resume_is_bit_identical(fault_data, tmp_path):
    full = fk.stage2_cfg(fault_data, str(tmp_path / 'full'))
    res = _train(full, str(tmp_path / 'full.py'))
    assert res.returncode == 0, res.stderr[-3000:]

    work = str(tmp_path / 'killed')
    killed = fk.stage2_cfg(fault_data, work, kill_at=3)
    res = _train(killed, str(tmp_path / 'killed.py'))
    assert res.returncode == -9, res.stderr[-3000:]  # SIGKILL
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().endswith('iter_2.pth')
    assert not osp.exists(osp.join(work, 'final_rank0.pth'))

    resumed = fk.stage2_cfg(fault_data, work)
    res = _train(resumed, str(tmp_path / 'resumed.py'), '--resume')
    assert res.returncode == 0, res.stderr[-3000:]
    log = res.stdout + res.stderr
    assert 'skips 4 indices of this rank without loading them' in log
    assert 'restored RNG states of 1 process(es) saved at iteration 2' in log
    fk.assert_state_equal(
        fk.load_state(osp.join(str(tmp_path / 'full'), 'final_rank0.pth')),
        fk.load_state(osp.join(work, 'final_rank0.pth')))


def test_sampler_start_index_continues_the_stream():
    data = list(range(7))
    plain = iter(ResumableInfiniteSampler(data, shuffle=True, seed=3))
    stream = [next(plain) for _ in range(20)]
    sampler = ResumableInfiniteSampler(data, shuffle=True, seed=3)
    sampler.set_start_index(9)
    it = iter(sampler)
    assert [next(it) for _ in range(11)] == stream[9:]


def test_sampler_refuses_empty_dataset():
    import pytest
    with pytest.raises(ValueError, match='has no samples'):
        ResumableInfiniteSampler([], seed=0)


def test_global_rng_state_roundtrip():
    import random

    import numpy as np
    state = get_global_rng_state()
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    set_global_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a


def test_online_sigkill_and_resume_is_bit_identical(fault_data, tmp_path):
    """Online self-training (teacher, ClassMix, jitter, blur, masks, online
    class thresholds, validation on the teacher's weights): killed and
    resumed, student, teacher and its update count equal the uninterrupted
    run's."""
    full = fk.online_cfg(fault_data, str(tmp_path / 'full'),
                         evaluate='teacher')
    res = _train(full, str(tmp_path / 'full.py'))
    assert res.returncode == 0, res.stderr[-3000:]

    work = str(tmp_path / 'killed')
    killed = fk.online_cfg(fault_data, work, evaluate='teacher', kill_at=5)
    res = _train(killed, str(tmp_path / 'killed.py'))
    assert res.returncode == -9, res.stderr[-3000:]
    resumed = fk.online_cfg(fault_data, work, evaluate='teacher')
    res = _train(resumed, str(tmp_path / 'resumed.py'), '--resume')
    assert res.returncode == 0, res.stderr[-3000:]
    log = res.stdout + res.stderr
    assert 'restored RNG states of 1 process(es) saved at iteration 4' in log
    full_dir = str(tmp_path / 'full')
    for name in ('final_rank0.pth', 'final_teacher_rank0.pth'):
        fk.assert_state_equal(
            fk.load_state(osp.join(full_dir, name)),
            fk.load_state(osp.join(work, name)))
    teacher = fk.load_state(osp.join(work, 'final_teacher_rank0.pth'))
    # Update 0 copies the student before training, then one per iteration.
    assert int(teacher['steps']) == 6 + 1
    ckpt = torch.load(osp.join(work, 'iter_6.pth'), weights_only=True)
    assert int(ckpt['mean_teacher']['steps']) == 7
    assert 'pl_class_histogram' in ckpt['state_dict']
