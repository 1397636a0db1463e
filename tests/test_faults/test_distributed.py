"""Distributed training on CPU: tools/dist_train.sh with 2 gloo processes
on loopback runs stage 2 and both ranks end with identical weights."""
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config

from mmseg_fdacl.utils.dist import replace_sync_bn, setup_cpu_distributed
from tests.helpers_hrda import tiny_hrda_cfg
from tests.test_faults import faultkit as fk


def test_two_process_stage2_ranks_identical(fault_data, tmp_path):
    work = str(tmp_path / 'dist')
    cfg = fk.stage2_cfg(fault_data, work, max_iters=3, val_interval=3)
    # BN statistics are per process on CPU (no SyncBN); mmengine's
    # SyncBuffersHook averages them at the end of training.
    cfg.custom_hooks.append(dict(type='SyncBuffersHook'))
    path = fk.write_cfg(cfg, str(tmp_path / 'dist.py'))
    res = fk.run(['bash', 'tools/dist_train.sh', path, '2'],
                 env=dict(PORT=str(fk.free_port()), MASTER_ADDR='127.0.0.1',
                          PYTHON=fk.PY))
    assert res.returncode == 0, (res.stdout[-2000:] + res.stderr[-4000:])
    assert 'Distributed training is not used' not in res.stdout
    a = fk.load_state(osp.join(work, 'final_rank0.pth'))
    b = fk.load_state(osp.join(work, 'final_rank1.pth'))
    fk.assert_state_equal(a, b)
    assert osp.isfile(osp.join(work, 'iter_3.pth'))


def test_setup_is_a_no_op_without_launcher():
    cfg = Config(dict(model=dict(norm_cfg=dict(type='SyncBN')), sync_bn='torch'))
    assert setup_cpu_distributed(cfg, 'none') is cfg
    assert cfg.sync_bn == 'torch' and 'model_wrapper_cfg' not in cfg


def test_setup_rejects_unknown_launcher():
    with pytest.raises(ValueError, match="launcher='srun'"):
        setup_cpu_distributed(Config(dict()), 'srun')


def test_setup_needs_torchrun_environment(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match='tools/dist_train.sh'):
        setup_cpu_distributed(Config(dict()), 'pytorch')


def test_sync_bn_replaced_on_cpu():
    model = dict(backbone=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)),
                 decode_head=dict(norm_cfg=dict(type='SyncBN')),
                 auxiliary_head=[dict(norm_cfg=dict(type='BN'))])
    assert replace_sync_bn(model) == 2
    assert model['backbone']['norm_cfg'] == dict(type='BN', requires_grad=True)
    assert model['auxiliary_head'][0]['norm_cfg']['type'] == 'BN'


def test_single_process_gloo_group_and_sync_bn_warning(monkeypatch):
    import torch.distributed as dist
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(fk.free_port()))
    cfg = Config(dict(
        model=dict(norm_cfg=dict(type='SyncBN')), sync_bn='torch',
        env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60))))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            setup_cpu_distributed(cfg, 'pytorch')
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
        assert any('SyncBN needs CUDA' in str(w.message) for w in caught)
        assert 'sync_bn' not in cfg
        assert cfg.model.norm_cfg.type == 'BN'
        assert cfg.model_wrapper_cfg.device_ids is None
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _two_process_online(cfg, work, tmp_path, name):
    cfg.custom_hooks.append(dict(type='SyncBuffersHook'))
    path = fk.write_cfg(cfg, str(tmp_path / f'{name}.py'))
    res = fk.run(['bash', 'tools/dist_train.sh', path, '2'],
                 env=dict(PORT=str(fk.free_port()), MASTER_ADDR='127.0.0.1',
                          PYTHON=fk.PY))
    assert res.returncode == 0, (res.stdout[-2000:] + res.stderr[-4000:])
    for name in ('final_teacher_rank{}.pth', 'final_rank{}.pth'):
        a = fk.load_state(osp.join(work, name.format(0)))
        b = fk.load_state(osp.join(work, name.format(1)))
        fk.assert_state_equal(a, b)
    teacher = fk.load_state(osp.join(work, 'final_teacher_rank0.pth'))
    assert int(teacher['steps']) == 3 + 1
    student = fk.load_state(osp.join(work, 'final_rank0.pth'))
    # The teacher is an average, not the student.
    assert any(not torch.equal(teacher['module.' + k], v)
               for k, v in student.items() if v.is_floating_point()
               and 'module.' + k in teacher)
    return student


def test_two_process_online_teacher_identical(fault_data, tmp_path):
    """Online self-training under tools/dist_train.sh with 2 gloo processes:
    the mean teacher (weights, BatchNorm buffers, update count) is identical
    on both ranks, and so is the student."""
    work = str(tmp_path / 'online')
    cfg = fk.online_cfg(fault_data, work, max_iters=3, val_interval=3)
    _two_process_online(cfg, work, tmp_path, 'online')


@pytest.mark.slow
def test_two_process_online_hrda_teacher_identical(fault_data, tmp_path):
    """The same for HRDA (tiny MiT + DAFormerHead, 16x16 detail crops of
    the 24x48 training crops, ClassMix and MIC masks): each rank draws its
    own detail crops, the teacher stays identical on both."""
    work = str(tmp_path / 'hrda')
    cfg = fk.online_cfg(fault_data, work, max_iters=3, val_interval=3)
    model = tiny_hrda_cfg('DAFormerHead', online=True)
    model['data_preprocessor'].update(size=(24, 48))
    model.update(lambda_mask=1.0, mask=dict(block_size=8, ratio=0.7))
    cfg.model = model
    student = _two_process_online(cfg, work, tmp_path, 'hrda')
    assert any(k.startswith('decode_head.scale_attention.') for k in student)
