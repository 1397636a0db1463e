"""Checkpoint loading under torch >= 2.6 (weights_only) stays safe."""
import io
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from mmseg_fdacl.utils import checkpoint_safe_globals
from mmseg_fdacl.utils.checkpoint import (_history_buffer_getattr,
                                          load_from_local_safe)


class _RunsShell:
    """Unpickling this would call os.system (the classic pickle exploit)."""

    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null', ))


class _Arbitrary:
    """A harmless but unlisted class: must be refused all the same."""


def _runner_like_checkpoint() -> dict:
    """What mmengine's Runner.save_checkpoint writes, in miniature."""
    model = torch.nn.Conv2d(3, 4, 3)
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(1, 3, 8, 8)).sum().backward()
    optim.step()
    hub = MessageHub.get_instance('test_checkpoint')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', np.float32(0.5))
    hub.update_info('best_score', np.float64(0.25))
    return dict(
        meta=dict(iter=3, seed=0, best=np.float32(41.5), hist=np.arange(3)),
        state_dict=model.state_dict(),
        optimizer=optim.state_dict(),
        message_hub=hub.state_dict(),
    )


def test_runner_checkpoint_round_trips_with_weights_only(tmp_path):
    path = str(tmp_path / 'iter_3.pth')
    torch.save(_runner_like_checkpoint(), path)
    # The allow list is in place since `import mmseg_fdacl` (conftest).
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    ckpt = torch.load(path, weights_only=True)
    logs = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(logs, HistoryBuffer)
    assert logs.mean() == pytest.approx(1.0)
    assert logs.current() == pytest.approx(0.5)
    assert ckpt['meta']['best'] == np.float32(41.5)
    np.testing.assert_array_equal(ckpt['meta']['hist'], np.arange(3))
    # Through mmengine's loader (what resume and load_from use).
    ckpt = _load_checkpoint(path, map_location='cpu')
    assert ckpt['message_hub']['runtime_info']['best_score'] == 0.25
    assert CheckpointLoader._get_checkpoint_loader(path) is \
        load_from_local_safe


def test_allow_list_is_exact():
    names = set()
    for entry in checkpoint_safe_globals():
        if isinstance(entry, tuple):
            names.add(entry[1])
        else:
            names.add(f'{entry.__module__}.{entry.__qualname__}')
    # Nothing that can run code: no os/subprocess/eval, no real getattr.
    assert not any(
        n.startswith(('os.', 'posix.', 'subprocess.')) for n in names)
    assert 'builtins.eval' not in names and 'builtins.exec' not in names
    for entry in checkpoint_safe_globals():
        if isinstance(entry, tuple) and entry[1] == 'builtins.getattr':
            assert entry[0] is _history_buffer_getattr
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in names


@pytest.mark.parametrize('payload,refused', [
    (_RunsShell(), 'posix.system'),
    (_Arbitrary(), '_Arbitrary'),
])
def test_arbitrary_globals_are_refused(tmp_path, payload, refused):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'x': payload}, path)
    with pytest.raises(pickle.UnpicklingError) as info:
        _load_checkpoint(path, map_location='cpu')
    msg = str(info.value)
    assert refused in msg  # names the global
    assert path in msg  # names the file
    assert 'weights_only=False' in msg and 'trust' in msg  # what to do


def test_getattr_is_restricted_to_history_buffer_methods():
    assert _history_buffer_getattr(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    for obj, name in [(HistoryBuffer, '__init__'),
                      (HistoryBuffer, '__class__'), (os, 'system'),
                      (np, 'load'), (HistoryBuffer, 'update')]:
        with pytest.raises(pickle.UnpicklingError, match='refused getattr'):
            _history_buffer_getattr(obj, name)


def test_getattr_pickle_cannot_reach_other_attributes():
    # A hand-written pickle: getattr(HistoryBuffer, '__init__').
    payload = (b'\x80\x02cbuiltins\ngetattr\n'
               b'cmmengine.logging.history_buffer\nHistoryBuffer\n'
               b'X\x08\x00\x00\x00__init__\x86R.')
    with pytest.raises(pickle.UnpicklingError, match='refused getattr'):
        torch.serialization._weights_only_unpickler.Unpickler(
            io.BytesIO(payload)).load()


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match='model.pretrained'):
        _load_checkpoint(str(tmp_path / 'none.pth'))


def test_numpy1_checkpoints_load():
    # numpy 1.x pickles name numpy.core.multiarray (numpy 2: numpy._core).
    buf = io.BytesIO()
    obj = dict(best=np.float64(1.5), hist=np.arange(3))
    # The legacy format keeps the pickle uncompressed, so it can be edited.
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    assert b'numpy._core.multiarray\n' in data
    old = data.replace(b'numpy._core.multiarray\n', b'numpy.core.multiarray\n')
    ckpt = torch.load(io.BytesIO(old), weights_only=True)
    assert ckpt['best'] == 1.5
    np.testing.assert_array_equal(ckpt['hist'], np.arange(3))
