"""tools/run_pipeline.py on the real GTA5 -> Cityscapes configs, as the
README writes the command, with tiny overrides given by ``--cfg-options``
only (a ResNet-18 trunk with 4 base channels, 2 iterations) on generated
data in the real folder layouts (data/gta5, data/cityscapes). Stage 2's
PseudoLabelHook must find the driver's stage-1 checkpoint and reuse the
driver's pseudo labels; a rerun skips every step."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmseg_fdacl.datasets.gta5 import convert_gta5_labels
from tests.helpers import make_cityscapes_tree, make_gta5_tree

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = dict(
    source_only='configs/fdacl/deeplabv2_gta2cs_source-only.py',
    fda='configs/fdacl/deeplabv2_gta2cs_fda-beta0.01.py',
    stage1='configs/fdacl/deeplabv2_gta2cs_stage1.py',
    stage2='configs/fdacl/deeplabv2_gta2cs_stage2.py')
# Keys every one of these configs has: nothing method-specific is changed.
TINY = [
    'model.pretrained=None', 'model.backbone.depth=18',
    'model.backbone.base_channels=4', 'model.backbone.stem_channels=8',
    'model.decode_head.in_channels=32', 'train_cfg.max_iters=2',
    'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
    'default_hooks.logger.interval=1', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False'
]


def _run(args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, osp.join(ROOT, 'tools',
                                                    'run_pipeline.py')] +
                          args, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=1200)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    return out


@pytest.mark.slow
def test_run_pipeline_on_the_real_configs(tmp_path):
    make_gta5_tree(str(tmp_path / 'data' / 'gta5'), num=4,
                   with_train_ids=False)
    convert_gta5_labels(str(tmp_path / 'data' / 'gta5'))
    make_cityscapes_tree(str(tmp_path / 'data' / 'cityscapes'),
                         splits=(('train', 4), ('val', 2)))
    os.symlink(osp.join(ROOT, 'configs'), tmp_path / 'configs')
    args = ['--work-dir', 'work_dirs/gta2cs']
    for step, path in CONFIGS.items():
        args += [f'--{step.replace("_", "-")}', path]
    args += ['--cfg-options'] + TINY
    log = _run(args, str(tmp_path))
    work = tmp_path / 'work_dirs' / 'gta2cs'
    for step in CONFIGS:
        assert (work / step / 'iter_2.pth').is_file(), step
    manifest = json.loads(
        (work / 'pseudo_labels' / 'manifest.json').read_text())
    assert manifest['complete']
    # The stage-2 hook labeled nothing itself: the driver's folder, made
    # from the driver's stage-1 checkpoint with the hook's settings.
    assert 'are complete for these checkpoints and settings; reusing' in log
    assert manifest['settings']['grayscale'] is True
    assert [c['path'] for c in manifest['checkpoints']] == [
        str(work / 'stage1' / 'iter_2.pth')]
    results = json.loads((work / 'results.json').read_text())
    assert 'mIoU' in json.dumps(results)
    log = _run(args + ['--status'], str(tmp_path))
    assert 'to do' not in log, log
