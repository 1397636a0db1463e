"""The transformer rows of the pipeline driver (``--transformer`` and
``--transformer-only``): the demo's small MiT + DAFormer head configs, HRDA's
crops at the demo's scale, their place in the table, that each online step
starts from the MiT source-only checkpoint, and (slow) a miniature
transformer-only run that trains every new config 2 iterations, evaluates and
reports."""
import json
import os.path as osp

import pytest
from mmengine.config import Config

from mmseg_fdacl.demo import pipeline as pipeline_module
from mmseg_fdacl.demo.pipeline import Pipeline
from mmseg_fdacl.demo.spec import (DEMO_TRANSFORMER, INIT_FROM, ONLINE_STEPS,
                                   ROWS, TRANSFORMER_STEPS, check_spec,
                                   final_checkpoint, loads_pseudo_labels)
from tests.test_demo.test_seeds_ablation import _tiny_spec
from tests.test_tools.test_run_pipeline import ROOT, _load_tool


def _cfg(step: str) -> Config:
    return Config.fromfile(osp.join(ROOT, DEMO_TRANSFORMER[step]))


def test_transformer_configs():
    keys = [k for k, _ in ROWS]
    assert keys.index(TRANSFORMER_STEPS[0]) == keys.index(ONLINE_STEPS[-1]) + 1
    assert keys[-1] == 'oracle'
    demo = Config.fromfile(osp.join(ROOT, 'configs/fdacl/demo/_base_demo.py'))
    cfgs = {k: _cfg(k) for k in TRANSFORMER_STEPS}
    for step, cfg in cfgs.items():
        assert cfg.model.backbone.type == 'MixVisionTransformer', step
        assert cfg.train_cfg.max_iters == demo.train_cfg.max_iters, step
        assert cfg.optim_wrapper == demo.optim_wrapper, step
        assert not cfg.model.get('pretrained'), step  # no ImageNet weights
        assert not cfg.model.get('imnet_feature_dist'), step
        assert not loads_pseudo_labels(cfg), step
    assert cfgs['source_only_mit'].model.type == 'EncoderDecoder'
    assert cfgs['source_only_mit'].model.decode_head.type == 'DAFormerHead'
    daformer = cfgs['online_daformer']
    assert daformer.model.type == 'SelfTrainingEncoderDecoder'
    assert daformer.model.decode_head.type == 'DAFormerHead'
    rcs = daformer.train_dataloader.dataset.rare_class_sampling
    assert rcs.temperature == 0.01
    for step in ('online_hrda', 'online_mic_hrda'):
        m = cfgs[step].model
        assert m.type == 'HRDASelfTrainingEncoderDecoder'
        assert m.decode_head.type == 'HRDAHead'
        assert m.decode_head.single_scale_head.type == 'DAFormerHead'
        # Detail crop half the demo frame in each side, context at 0.5.
        assert tuple(m.hr_crop_size) == tuple(
            s // 2 for s in demo.crop_size)
        assert m.context_scale == 0.5
    assert not cfgs['online_hrda'].model.get('lambda_mask')
    mic = cfgs['online_mic_hrda'].model
    assert (mic.lambda_mask, mic.mask.ratio, mic.mask.block_size) == (
        1.0, 0.7, 16)


def test_spec_transformer_keys(tmp_path, monkeypatch):
    spec = _tiny_spec(tmp_path)
    assert check_spec(spec)['transformer'] == {}
    monkeypatch.chdir(ROOT)  # the demo's paths are repo-relative
    checked = check_spec(dict(spec, transformer=True))
    assert {k: checked['configs'][k]
            for k in TRANSFORMER_STEPS} == DEMO_TRANSFORMER
    assert 'stage2' in checked['configs']
    assert check_spec(checked) == checked
    only = check_spec(dict(spec, transformer=True, transformer_only=True))
    assert only['configs'] == DEMO_TRANSFORMER
    assert Pipeline(only).steps() == ['data'] + list(TRANSFORMER_STEPS) + [
        'evaluate', 'report']  # no pseudo labels without stage 2
    with pytest.raises(ValueError, match='unknown transformer steps'):
        check_spec(dict(spec, transformer=dict(online_x='x.py')))
    with pytest.raises(ValueError, match='needs `transformer`'):
        check_spec(dict(spec, transformer_only=True))
    no_src = {k: v for k, v in DEMO_TRANSFORMER.items()
              if k != 'source_only_mit'}
    with pytest.raises(ValueError, match='source_only_mit'):
        check_spec(dict(spec, transformer=no_src))


def test_flags_add_the_rows():
    tool = _load_tool()
    plain = tool.build_spec(tool.parse_args(['--demo']))
    assert not set(TRANSFORMER_STEPS) & set(plain['configs'])
    both = tool.build_spec(tool.parse_args(['--demo', '--transformer']))
    assert set(both['configs']) == set(plain['configs']) | set(
        TRANSFORMER_STEPS)
    only = tool.build_spec(
        tool.parse_args(['--demo', '--transformer-only', '--online']))
    assert set(only['configs']) == set(TRANSFORMER_STEPS)


def test_online_steps_train_from_the_mit_source_only_checkpoint(
        tmp_path, monkeypatch):
    spec = _tiny_spec(tmp_path)
    monkeypatch.chdir(ROOT)
    pipe = Pipeline(dict(spec, transformer=True))
    mit = final_checkpoint(pipe.step_dir('source_only_mit'),
                           pipe.cfg('source_only_mit'))
    assert pipe._inputs('source_only_mit') == []
    calls = []
    monkeypatch.setattr(pipeline_module, 'train',
                        lambda cfg, work_dir, **kw: calls.append(kw))
    for step in TRANSFORMER_STEPS[1:]:
        assert INIT_FROM[step] == 'source_only_mit'
        assert pipe._inputs(step) == [mit]
    pipe._run_train('online_mic_hrda')
    assert calls == [dict(load_from=mit, pseudo_label_dir=None)]


def _tiny_transformer_spec(tmp_path) -> dict:
    """The miniature data (32x64 frames) with the transformer rows only,
    2 iterations each; HRDA's detail crop half the frame (16x32), MIC's
    blocks 8 pixels, every class a rare-class candidate; the networks are
    the demo's own."""
    spec = _tiny_spec(tmp_path)
    data = spec['data']['out_dir']
    src, trg = osp.join(data, 'gta5'), osp.join(data, 'cityscapes')
    opts = {
        'train_cfg.max_iters': 2,
        'param_scheduler': [
            dict(type='ConstantLR', factor=1.0, begin=0, end=2,
                 by_epoch=False)
        ],
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 1,
        'model.data_preprocessor.size': (32, 64),
        'train_dataloader.batch_size': 2,
        'test_dataloader.dataset.data_root': trg,
    }
    cfg_options = {}
    for step in TRANSFORMER_STEPS:
        o = dict(opts)
        if step == 'source_only_mit':
            o['train_dataloader.dataset.data_root'] = src
        else:
            o['train_dataloader.dataset.source.data_root'] = src
            o['train_dataloader.dataset.target.data_root'] = trg
            # 1-pixel classes of the 32x64 frames are still candidates.
            o['train_dataloader.dataset.rare_class_sampling'
              '.min_pixels_fraction'] = 1e-4
        if 'hrda' in step:
            o['model.hr_crop_size'] = (16, 32)
        if 'mic' in step:
            o['model.mask.block_size'] = 8
        # SegFormer's reduction 8 would pool the 4x8 first level of the
        # 16x32 HRDA crops below one cell (the demo's crops are 4x larger);
        # every step alike, as the online steps load the source-only weights.
        o['model.backbone.sr_ratios'] = [4, 2, 1, 1]
        cfg_options[step] = o
    return dict(spec, transformer=True, transformer_only=True,
                cfg_options=cfg_options)


@pytest.mark.slow
def test_transformer_only_pipeline_trains_evaluates_and_reports(
        tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    spec = check_spec(_tiny_transformer_spec(tmp_path))
    pipe = Pipeline(spec)
    table = pipe.run()
    assert pipe.ran == pipe.steps()
    assert [r['key'] for r in table['rows']] == list(TRANSFORMER_STEPS)
    for step in TRANSFORMER_STEPS:
        assert osp.isfile(final_checkpoint(pipe.step_dir(step),
                                           pipe.cfg(step)))
    # The online steps were initialized from the MiT source-only weights.
    for step in TRANSFORMER_STEPS[1:]:
        log = [p for p in _logs(pipe.step_dir(step))]
        assert any('source_only_mit/iter_2.pth' in t for t in log), step
    with open(osp.join(spec['work_dir'], 'results.json')) as f:
        assert json.load(f) == table
    md = open(osp.join(spec['work_dir'], 'results.md')).read()
    assert 'Online: MIC on HRDA (MiT)' in md
    assert osp.isfile(osp.join(spec['work_dir'], 'predictions.png'))
    rerun = Pipeline(spec)
    rerun.run()
    assert rerun.ran == []


def _logs(work_dir: str):
    import glob
    for path in glob.glob(osp.join(work_dir, '*', '*.log')):
        with open(path) as f:
            yield f.read()
