"""The online self-training rows of the pipeline driver (``--online``): the
demo's configs, their place in the table, and that each trains from the
source-only checkpoint without pseudo labels. Training itself:
tests/test_tools/test_online_configs.py."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmseg_fdacl.demo import pipeline as pipeline_module
from mmseg_fdacl.demo.pipeline import Pipeline
from mmseg_fdacl.demo.spec import (ABLATION_STEPS, DEMO_ONLINE, ONLINE_STEPS,
                                   ROWS, check_spec, final_checkpoint,
                                   loads_pseudo_labels)
from tests.test_demo.test_seeds_ablation import _tiny_spec
from tests.test_tools.test_run_pipeline import ROOT


def test_online_rows_follow_the_ablation_rows():
    keys = [k for k, _ in ROWS]
    assert keys.index(ONLINE_STEPS[0]) == keys.index(ABLATION_STEPS[-1]) + 1
    assert keys[-1] == 'oracle'
    for step, path in DEMO_ONLINE.items():
        cfg = Config.fromfile(osp.join(ROOT, path))
        assert cfg.model.type == 'SelfTrainingEncoderDecoder', step
        assert not loads_pseudo_labels(cfg), step
    mic = Config.fromfile(osp.join(ROOT, DEMO_ONLINE['online_mic']))
    assert mic.model.lambda_mask == 1.0
    rcs = Config.fromfile(osp.join(ROOT, DEMO_ONLINE['online_rcs']))
    assert rcs.train_dataloader.dataset.rare_class_sampling.temperature == 0.01


def test_spec_online_key(tmp_path, monkeypatch):
    spec = _tiny_spec(tmp_path)
    assert check_spec(spec)['online'] == {}
    monkeypatch.chdir(ROOT)  # the demo's paths are repo-relative
    checked = check_spec(dict(spec, online=True))
    assert {k: checked['configs'][k] for k in ONLINE_STEPS} == DEMO_ONLINE
    assert check_spec(checked) == checked
    with pytest.raises(ValueError, match='unknown online steps'):
        check_spec(dict(spec, online=dict(online_x='x.py')))


def test_online_step_trains_from_the_source_only_checkpoint(
        tmp_path, monkeypatch):
    spec = _tiny_spec(tmp_path)
    monkeypatch.chdir(ROOT)
    pipe = Pipeline(dict(spec, online=True))
    source_only = final_checkpoint(
        pipe.step_dir('source_only'), pipe.cfg('source_only'))
    assert pipe._inputs('online_mic') == [source_only]
    calls = []
    monkeypatch.setattr(pipeline_module, 'train',
                        lambda cfg, work_dir, **kw: calls.append(kw))
    pipe._run_train('online_dacs')
    assert calls == [dict(load_from=source_only, pseudo_label_dir=None)]
