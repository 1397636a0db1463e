"""Every runnable config resolves to the content stored before the configs
were refactored (tests/data/resolved_configs.json: `Config.fromfile(path)
.to_dict()` of each `configs/fdacl/**/[!_]*.py`, tuples as lists, keyed by
the path under configs/).

A refactor of the config files (fragments, names, folders) must leave this
test passing; a change of a setting must fail it. Regenerate the stored file
only for a change that is meant to change the settings, and say so.
"""
import glob
import json
import os.path as osp

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(REPO, 'configs')
with open(osp.join(REPO, 'tests', 'data', 'resolved_configs.json')) as f:
    STORED = json.load(f)

# A config that is not stored under its own path -> the stored path whose
# content it must resolve to.
SAME_AS = {}

RUNNABLE = sorted(
    osp.relpath(p, CONFIGS) for p in glob.glob(
        osp.join(CONFIGS, 'fdacl', '**', '*.py'), recursive=True)
    if not osp.basename(p).startswith('_'))


def _jsonable(node):
    """What json.dump/json.load makes of ``node`` (tuples become lists)."""
    if isinstance(node, dict):
        return {str(k): _jsonable(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_jsonable(v) for v in node]
    return node


def _differences(got, want, where=''):
    """The key paths at which ``got`` and ``want`` differ."""
    if isinstance(got, dict) and isinstance(want, dict):
        return [
            d for k in sorted(set(got) | set(want))
            for d in (_differences(got[k], want[k], f'{where}.{k}')
                      if k in got and k in want else [f'{where}.{k}'])
        ]
    if (isinstance(got, list) and isinstance(want, list)
            and len(got) == len(want)):
        return [
            d for i, (g, w) in enumerate(zip(got, want))
            for d in _differences(g, w, f'{where}[{i}]')
        ]
    return [] if got == want else [where]


def test_every_stored_config_is_still_runnable():
    assert set(SAME_AS) <= set(RUNNABLE)
    assert set(SAME_AS.values()) <= set(STORED)
    missing = set(STORED) - {SAME_AS.get(p, p) for p in RUNNABLE}
    assert not missing, f'stored configs with no runnable config: {missing}'


@pytest.mark.parametrize('path', RUNNABLE)
def test_config_resolves_as_stored(path):
    stored = SAME_AS.get(path, path)
    assert stored in STORED, (
        f'{path} is new: add it to SAME_AS with the stored config it equals')
    got = _jsonable(Config.fromfile(osp.join(CONFIGS, path)).to_dict())
    differences = _differences(got, STORED[stored])
    assert not differences, (
        f'{path} resolves differently from the stored {stored} at '
        f'{differences[:20]}')
