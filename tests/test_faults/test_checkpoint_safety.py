"""Safe checkpoints: a kill in the middle of a save never leaves
last_checkpoint naming a truncated or deleted file; loading refuses pickles
that would run code."""
import glob
import os
import os.path as osp
import pickle

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader

from mmseg_fdacl.utils.atomic_io import atomic_write
from tests.test_faults import faultkit as fk


def test_kill_during_save_keeps_last_checkpoint_valid(fault_data, tmp_path):
    work = str(tmp_path / 'work')
    cfg = fk.source_only_cfg(fault_data, work, max_iters=6, ckpt_interval=2,
                             val_interval=100, max_keep_ckpts=1)
    cfg.custom_hooks.append(dict(type='KillDuringSaveHook', at=4))
    res = fk.run([fk.PY, 'tools/train.py',
                  fk.write_cfg(cfg, str(tmp_path / 'c.py'))])
    assert res.returncode == -9, res.stderr[-3000:]
    # The half-written iter_4 never got its name; iter_2 (the only kept
    # checkpoint, max_keep_ckpts=1) was not deleted before the new save.
    with open(osp.join(work, 'last_checkpoint')) as f:
        last = f.read()
    assert last.endswith('iter_2.pth')
    assert not osp.exists(osp.join(work, 'iter_4.pth'))
    leftovers = glob.glob(osp.join(work, '.iter_4.tmp-*.pth'))
    assert len(leftovers) == 1  # the truncated temporary file
    ckpt = CheckpointLoader.load_checkpoint(last, map_location='cpu')
    assert ckpt['meta']['iter'] == 2 and 'rng_state' in ckpt

    cfg.custom_hooks = [h for h in cfg.custom_hooks
                        if h['type'] != 'KillDuringSaveHook']
    res = fk.run([fk.PY, 'tools/train.py',
                  fk.write_cfg(cfg, str(tmp_path / 'c.py')), '--resume'])
    assert res.returncode == 0, res.stderr[-3000:]
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().endswith('iter_6.pth')
    assert not osp.exists(osp.join(work, 'iter_2.pth'))


def test_atomic_write_failure_leaves_old_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'last_checkpoint')
    atomic_write(path, 'old')

    def boom(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', boom)
    with pytest.raises(OSError, match='disk full'):
        atomic_write(path, 'new')
    assert open(path).read() == 'old'
    assert os.listdir(tmp_path) == ['last_checkpoint']


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_malicious_pickle_refused(tmp_path):
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'evil.pth')
    with open(path, 'wb') as f:
        pickle.dump({'state_dict': {}, 'meta': _Evil(marker)}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError) as err:
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert 'evil.pth' in str(err.value)
    assert 'system' in str(err.value)
    assert not osp.exists(marker)


def test_checkpoint_with_torch_save_code_refused(tmp_path):
    marker = str(tmp_path / 'pwned2')
    path = str(tmp_path / 'evil2.pth')
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': _Evil(marker)}, path)
    with pytest.raises(pickle.UnpicklingError, match='evil2.pth') as err:
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert 'system' in str(err.value)  # names the refused global
    assert not osp.exists(marker)
