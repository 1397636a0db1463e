"""A miniature end-to-end run of the pipeline driver (tools/run_pipeline.py).

Every step runs on tiny generated data (32x64 frames, a 4-channel ResNet-18
DeepLabV2, 2 iterations per training), then a rerun must skip every step.
"""
import importlib.util
import json
import os
import os.path as osp

import pytest

from mmseg_fdacl.demo.pipeline import Pipeline
from mmseg_fdacl.demo.report import format_markdown, results_table
from mmseg_fdacl.demo.spec import (ABLATION_STEPS, ONLINE_STEPS, ROWS,
                                   TRANSFORMER_STEPS, check_spec)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'fdacl', 'demo')
STEP_CONFIGS = dict(
    source_only='source-only.py', fda='fda.py', stage1='stage1.py',
    stage2='stage2.py', oracle='oracle.py')


def _tiny_options(step: str, data: str) -> dict:
    src, trg = osp.join(data, 'gta5'), osp.join(data, 'cityscapes')
    opts = {
        'train_cfg.max_iters': 2,
        'param_scheduler': [
            dict(type='ConstantLR', factor=1.0, begin=0, end=2,
                 by_epoch=False)
        ],
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 1,
        'model.backbone.base_channels': 4,
        'model.backbone.stem_channels': 4,
        'model.decode_head.in_channels': 32,
        'model.data_preprocessor.size': (32, 64),
        'train_dataloader.batch_size': 2,
        'test_dataloader.dataset.data_root': trg,
    }
    if step == 'source_only':
        opts['train_dataloader.dataset.data_root'] = src
    elif step == 'oracle':
        opts['train_dataloader.dataset.data_root'] = trg
    else:
        opts['train_dataloader.dataset.source.data_root'] = src
        opts['train_dataloader.dataset.target.data_root'] = trg
    if step.startswith('stage2'):  # stage 2 and its ablation rows
        opts['model.contrast_loss.max_samples'] = 64
    return opts


def _spec(tmp_path) -> dict:
    data = str(tmp_path / 'data')
    return dict(
        work_dir=str(tmp_path / 'work'),
        data=dict(
            out_dir=data,
            num_source=4,
            num_target_train=4,
            num_target_val=2,
            size=(32, 64),
            seed=0,
            nproc=1),
        configs={k: osp.join(DEMO, v)
                 for k, v in STEP_CONFIGS.items()},
        cfg_options={k: _tiny_options(k, data)
                     for k in STEP_CONFIGS},
        pseudo_labels=dict(beta=0.01, percentile=0.66, cap=0.9, seed=0),
        stage2_load_from_stage1=True,
        num_vis=2)


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'run_pipeline_tool', osp.join(ROOT, 'tools', 'run_pipeline.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pipeline_end_to_end_and_resume(tmp_path, capsys):
    spec = _spec(tmp_path)
    pipe = Pipeline(spec)
    table = pipe.run()
    work = spec['work_dir']
    assert pipe.ran == pipe.steps() and not pipe.skipped
    # Without `ablation`, `online` and `transformer` the table has none of
    # those row sets; one
    # seed, today's layout (no seed_<s> folders, no aggregate keys).
    assert [r['key'] for r in table['rows']] == [
        k for k, _ in ROWS
        if k not in ABLATION_STEPS + ONLINE_STEPS + TRANSFORMER_STEPS
    ]
    assert 'seeds' not in table and 'IoU_std' not in table['rows'][0]
    assert not any(n.startswith('seed_') for n in os.listdir(work))
    assert len(table['classes']) == 19
    for row in table['rows']:
        assert len(row['IoU']) == 19 and 0 <= row['mIoU'] <= 100
    assert 'gap_closed' in table and 'pseudo_label_coverage' in table
    for name in ('results.md', 'results.json', 'fda.png', 'predictions.png',
                 'pseudo_labels.png', 'per_class_iou.png',
                 'training_losses.png'):
        assert osp.isfile(osp.join(work, name)), name
    md = open(osp.join(work, 'results.md')).read()
    assert md.startswith('| Method | road | sidewalk |')
    assert '| mIoU |' in md.splitlines()[0] and 'Stage 2 (FDA + CL)' in md
    with open(osp.join(work, 'pseudo_labels', 'manifest.json')) as f:
        assert json.load(f)['complete']
    # Stage 2 started from stage 1 and trained with the pseudo labels.
    assert osp.isfile(osp.join(work, 'stage2', 'iter_2.pth'))

    again = Pipeline(spec)
    table2 = again.run()
    assert again.ran == [] and again.skipped == again.steps()
    assert table2 == table

    # A retrained model (its checkpoint newer than its evaluation): that
    # evaluation row and the report are redone.
    past = osp.getmtime(osp.join(work, 'oracle', 'iter_2.pth')) - 10
    os.utime(osp.join(work, 'eval', 'oracle.json'), (past, past))
    third = Pipeline(spec)
    third.run()
    assert third.ran == ['evaluate', 'report']

    # The command line: --status lists every step as done.
    spec_file = tmp_path / 'spec.py'
    spec_file.write_text('\n'.join(f'{k} = {v!r}' for k, v in spec.items()))
    tool = _load_tool()
    capsys.readouterr()
    assert tool.main(['--pipeline', str(spec_file), '--status']) == 0
    out = capsys.readouterr().out
    assert out.count('done') == len(pipe.steps()) and 'to do' not in out

    # A retrained stage 1 is newer than the pseudo labels made from it:
    # never reused silently, the error says what to delete.
    past = osp.getmtime(osp.join(work, 'stage1', 'iter_2.pth')) - 10
    os.utime(osp.join(work, 'pseudo_labels', 'manifest.json'), (past, past))
    with pytest.raises(RuntimeError, match='delete .*pseudo_labels'):
        Pipeline(spec).run()
    assert tool.main(['--pipeline', str(spec_file)]) == 1


def test_results_table_and_gap_closed():
    classes = [f'c{i}' for i in range(3)]

    def r(miou):
        return dict(classes=classes, IoU=[miou, None, miou], mIoU=miou)

    table = results_table(
        dict(source_only=r(20.0), stage2=r(35.0), oracle=r(50.0)))
    assert table['gap_closed'] == pytest.approx(0.5)
    md = format_markdown(table)
    assert '| Source only | 20.00 | - | 20.00 | 20.00 |' in md
    assert 'Gap closed' in md and '50.0%' in md
    assert results_table(dict(source_only=r(20.0)))['gap_closed'] is None


def test_spec_errors(tmp_path):
    with pytest.raises(ValueError, match='stage2'):
        check_spec(dict(work_dir='w', configs=dict(
            source_only=osp.join(DEMO, 'source-only.py'),
            stage1=osp.join(DEMO, 'stage1.py'))))
    with pytest.raises(ValueError, match='unknown steps'):
        check_spec(dict(work_dir='w', configs=dict(stage3='x.py')))
    with pytest.raises(FileNotFoundError, match='missing.py'):
        check_spec(dict(work_dir='w', configs=dict(
            source_only='missing.py', stage1='a', stage2='b')))
