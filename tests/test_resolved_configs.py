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
# content it must resolve to: the long names that the short card names are
# now aliases of, and the renamed folder mix/ (backbones/ now).
_D = '_gta5-1280x720_cityscapes-1024x512.py'
SAME_AS = {
    f'fdacl/deeplabv2_r101-d8_fda-beta0.05-ent_1xb1-100k{_D}':
    'fdacl/deeplabv2_gta2cs_fda-beta0.05.py',
    f'fdacl/deeplabv2_r101-d8_fda-beta0.09-ent_1xb1-100k{_D}':
    'fdacl/deeplabv2_gta2cs_fda-beta0.09.py',
    f'fdacl/deeplabv2_r101-d8_uda-stage2-fda-balanced-cl-ent_1xb1-60k{_D}':
    'fdacl/deeplabv2_gta2cs_stage2-balanced-cl.py',
    'fdacl/deeplabv2_r101-d8_uda-stage2-from-stage1-fda-beta0.01-cl-ent_'
    f'1xb1-60k{_D}': 'fdacl/deeplabv2_gta2cs_stage2-from-stage1.py',
    f'fdacl/deeplabv2_r101-d8_uda-stage2-fda-ent_1xb1-60k{_D}':
    'fdacl/deeplabv2_gta2cs_stage2-no-cl.py',
    f'fdacl/deeplabv2_r101-d8_uda-stage2-fda_1xb1-60k{_D}':
    'fdacl/deeplabv2_gta2cs_stage2-no-ent.py',
    f'fdacl/deeplabv2_r101-d8_uda-stage2-fda-pseudo-ce-ent_1xb1-60k{_D}':
    'fdacl/deeplabv2_gta2cs_stage2-pseudo-ce.py',
    f'fdacl/enet_fda-beta0.01-ent_1xb1-100k{_D}':
    'fdacl/enet_gta2cs_fda-beta0.01.py',
    f'fdacl/enet_fda-beta0.05-ent_1xb1-100k{_D}':
    'fdacl/enet_gta2cs_fda-beta0.05.py',
    f'fdacl/enet_fda-beta0.09-ent_1xb1-100k{_D}':
    'fdacl/enet_gta2cs_fda-beta0.09.py',
    f'fdacl/enet_uda-stage1-gray-ent_1xb1-100k{_D}':
    'fdacl/enet_gta2cs_stage1.py',
    f'fdacl/enet_uda-stage2-from-stage1-fda-beta0.01-cl-ent_1xb1-100k{_D}':
    'fdacl/enet_gta2cs_stage2.py',
    f'fdacl/fcn8s_vgg16_fda-beta0.01-ent_1xb1-100k{_D}':
    'fdacl/vgg16_gta2cs_fda-beta0.01.py',
    f'fdacl/fcn8s_vgg16_fda-beta0.05-ent_1xb1-100k{_D}':
    'fdacl/vgg16_gta2cs_fda-beta0.05.py',
    f'fdacl/fcn8s_vgg16_fda-beta0.09-ent_1xb1-100k{_D}':
    'fdacl/vgg16_gta2cs_fda-beta0.09.py',
    f'fdacl/fcn8s_vgg16_uda-stage1-gray-ent_1xb1-100k{_D}':
    'fdacl/vgg16_gta2cs_stage1.py',
    'fdacl/fcn8s_vgg16_uda-stage2-from-stage1-fda-beta0.01-cl-ent_'
    f'1xb1-100k{_D}': 'fdacl/vgg16_gta2cs_stage2.py',
    'fdacl/deeplabv2_gta2cs_stage2-rounds.py':
    f'fdacl/deeplabv2_r101-d8_uda-stage2-fda-cl-ent-2rounds_1xb1-60k{_D}',
    'fdacl/backbones/mobilenet-v2-d8-aspp_gta2cs_stage1.py':
    'fdacl/mix/mobilenet-v2-d8-aspp_gta2cs_stage1.py',
    'fdacl/backbones/mobilenet-v2-d8-aspp_gta2cs_stage2.py':
    'fdacl/mix/mobilenet-v2-d8-aspp_gta2cs_stage2.py',
    'fdacl/backbones/r18-d8-dlv2_gta2cs_stage1.py':
    'fdacl/mix/r18-d8-dlv2_gta2cs_stage1.py',
    'fdacl/backbones/r18-d8-dlv2_gta2cs_stage2.py':
    'fdacl/mix/r18-d8-dlv2_gta2cs_stage2.py',
}
# The online self-training short names alias their long names.
_O = '_gta5-512x512_cityscapes-512x512.py'
SAME_AS.update({
    'fdacl/deeplabv2_gta2cs_dacs.py':
    f'fdacl/deeplabv2_r101-d8_dacs_1xb2-250k{_O}',
    'fdacl/deeplabv2_gta2cs_daformer-recipe.py':
    f'fdacl/deeplabv2_r101-d8_daformer-recipe_1xb2-40k{_O}',
    'fdacl/deeplabv2_gta2cs_mic.py':
    f'fdacl/deeplabv2_r101-d8_mic_1xb2-40k{_O}',
    'fdacl/deeplabv2_gta2cs_fda-cl-online.py':
    f'fdacl/deeplabv2_r101-d8_fda-cl-online_1xb2-40k{_O}',
    'fdacl/daformer_gta2cs_mit-b5.py':
    f'fdacl/daformer_mit-b5_1xb2-40k{_O}',
})
# Top-level variables added since the store that only carry a block to the
# key that uses it: the method fragments of configs/_base_/uda/ hand theirs
# to the leaves as `uda_model` (a base cannot define `model`, the model base
# does), and the switch blocks merged into it (`mic_masking`, the method's
# `method_contrast`), and the head's SyncBN block of the multi-GPU DAFormer
# leaves (`daformer_head_syncbn`, `syncbn`). Nothing reads them; they are
# left out before comparing.
CARRIERS = {'uda_model', 'mic_masking', 'method_contrast',
            'daformer_head_syncbn', 'syncbn'}

RUNNABLE = sorted(
    osp.relpath(p, CONFIGS) for p in glob.glob(
        osp.join(CONFIGS, 'fdacl', '**', '*.py'), recursive=True)
    if not osp.basename(p).startswith('_'))


def _jsonable(node, scope):
    """What json.dump/json.load makes of ``node`` (tuples become lists),
    without the ``_scope_`` keys equal to ``scope``, the default scope:
    mmengine adds one to each typed dict inherited through ``mmseg::``
    (MMSeg's runtime), and a registry builds such a dict in the default
    scope anyway."""
    if isinstance(node, dict):
        return {
            str(k): _jsonable(v, scope)
            for k, v in node.items() if not (k == '_scope_' and v == scope)
        }
    if isinstance(node, (list, tuple)):
        return [_jsonable(v, scope) for v in node]
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
    # a carrier never hides a stored setting
    assert not any(CARRIERS & set(cfg) for cfg in STORED.values())
    assert set(SAME_AS.values()) <= set(STORED)
    missing = set(STORED) - {SAME_AS.get(p, p) for p in RUNNABLE}
    assert not missing, f'stored configs with no runnable config: {missing}'


@pytest.mark.parametrize('path', RUNNABLE)
def test_config_resolves_as_stored(path):
    stored = SAME_AS.get(path, path)
    assert stored in STORED, (
        f'{path} is new: add it to SAME_AS with the stored config it equals')
    cfg = Config.fromfile(osp.join(CONFIGS, path)).to_dict()
    got = _jsonable(cfg, cfg.get('default_scope'))
    got = {k: v for k, v in got.items() if k not in CARRIERS}
    differences = _differences(got, STORED[stored])
    assert not differences, (
        f'{path} resolves differently from the stored {stored} at '
        f'{differences[:20]}')
