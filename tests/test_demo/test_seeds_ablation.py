"""The stage-2 ablation rows (``--ablation``) and runs over seeds
(``--seeds``) of the pipeline driver.

One miniature run (the tiny spec of tests/test_tools/test_run_pipeline.py:
32x64 frames, 2 iterations per training; source-only, stage 1, stage 2 and
the four ablation rows) with ``--seeds 0 1 --ablation``; the aggregated
table must equal mean and sample standard deviation computed by hand from
the two per-seed tables. The rest are quick checks without training.
"""
import glob
import json
import os
import os.path as osp
import statistics

import pytest
from mmengine.config import Config

from mmseg_fdacl.demo.seeds import (SeedSweep, aggregate_tables,
                                    format_markdown_seeds, mean_std,
                                    seed_options, seed_spec)
from mmseg_fdacl.demo.spec import (ABLATION_ROWS, ABLATION_STEPS,
                                   DEMO_ABLATION, OWN_INIT_STEPS, ROWS,
                                   check_spec,
                                   load_step_cfg, loads_pseudo_labels)
from mmseg_fdacl.pseudo_labels import read_report
from tests.test_tools.test_run_pipeline import (DEMO, ROOT, _load_tool, _spec,
                                                _tiny_options)

BASE_STEPS = ('source_only', 'stage1', 'stage2')


def _hand(values):
    """Mean and sample std of the values that are not None, by hand."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None, None
    return statistics.mean(vals), (
        statistics.stdev(vals) if len(vals) > 1 else None)


def _close(got, want):
    if want is None:
        return got is None
    return got == pytest.approx(want, rel=1e-9, abs=1e-12)


def _tiny_spec(tmp_path) -> dict:
    """The miniature spec with source-only, stage 1 and stage 2 only, and
    tiny options for the ablation steps as well."""
    spec = _spec(tmp_path)
    spec['configs'] = {k: spec['configs'][k] for k in BASE_STEPS}
    data = spec['data']['out_dir']
    spec['cfg_options'] = {
        k: _tiny_options(k, data)
        for k in BASE_STEPS + ABLATION_STEPS
    }
    for k in OWN_INIT_STEPS:  # both phases of the reference's timing
        spec['cfg_options'][k]['model.warmup_iters'] = 1
    return spec


def test_ablation_configs_and_rows():
    assert [k for k, _ in ROWS].index('stage2') + 1 == [
        k for k, _ in ROWS
    ].index(ABLATION_STEPS[0])
    labels = dict(ABLATION_ROWS)
    assert labels['stage2_cl_gt'] == (
        'Stage 2, CL on target labels (upper bound)')
    cfgs = {
        k: Config.fromfile(osp.join(ROOT, v))
        for k, v in DEMO_ABLATION.items()
    }
    model = {k: c.model for k, c in cfgs.items()}
    fda = {k: m.data_preprocessor.fda for k, m in model.items()}
    assert (model['stage2_pseudo_ce'].lambda_cl,
            model['stage2_pseudo_ce'].lambda_pseudo_ce) == (0.0, 1.0)
    assert not fda['stage2_pseudo_ce'].target_to_source
    assert model['stage2_no_ent'].lambda_ent == 0.0
    assert model['stage2_no_ent'].lambda_cl == 1.0
    assert model['stage2_cl_gt'].lambda_cl == 1.0
    assert model['stage2_fda_only'].lambda_cl == 0.0
    assert model['stage2_fda_only'].get('lambda_pseudo_ce', 0.0) == 0.0
    assert model['stage2_fda_only'].lambda_ent == 0.005
    # Pseudo labels only where a loss reads them; the CL-GT row loads the
    # target's ground truth instead.
    assert {
        k: loads_pseudo_labels(c)
        for k, c in cfgs.items()
    } == dict(
        stage2_pseudo_ce=True,
        stage2_no_ent=True,
        stage2_cl_gt=False,
        stage2_fda_only=False,
        stage2_ref_timing=True,
        stage2_ref_timing_no_cl=False)
    # The reference's timing: target terms in the last sixth of 400
    # iterations (its 50k of 60k), stage 2's losses otherwise.
    for k in ('stage2_ref_timing', 'stage2_ref_timing_no_cl'):
        assert model[k].warmup_iters == 333
        assert model[k].lambda_ent == 0.005
    assert model['stage2_ref_timing'].lambda_cl == 1.0
    assert model['stage2_ref_timing_no_cl'].lambda_cl == 0.0
    target = cfgs['stage2_cl_gt'].train_dataloader.dataset.target
    assert [t['type'] for t in target.pipeline
            ][:2] == ['LoadImageFromFile', 'LoadAnnotations']
    assert target.data_prefix.seg_map_path == 'gtFine/train'
    assert loads_pseudo_labels(Config.fromfile(osp.join(DEMO, 'stage2.py')))


def test_spec_ablation_and_seeds_keys(tmp_path, monkeypatch):
    spec = _tiny_spec(tmp_path)
    assert check_spec(spec)['ablation'] == {}
    monkeypatch.chdir(ROOT)  # the demo's ablation paths are repo-relative
    checked = check_spec(dict(spec, ablation=True))
    assert {k: checked['configs'][k] for k in ABLATION_STEPS} == DEMO_ABLATION
    assert check_spec(checked) == checked  # idempotent
    with pytest.raises(ValueError, match='unknown ablation'):
        check_spec(dict(spec, ablation=dict(stage3='x.py')))
    for bad in ([], [0, 0], [-1], ['1'], [True]):
        with pytest.raises(ValueError, match='seeds'):
            check_spec(dict(spec, seeds=bad))
    with pytest.raises(ValueError, match='no `seeds`'):
        SeedSweep(spec)


def test_seed_spec_sets_every_seed(tmp_path):
    spec = check_spec(dict(_tiny_spec(tmp_path), seeds=[0, 3]))
    stage2 = load_step_cfg(spec, 'stage2')
    opts = seed_options(stage2, 3)
    assert opts['randomness.seed'] == 3
    assert opts['train_dataloader.dataset.seed'] == 3  # UDADataset pairing
    assert seed_options(load_step_cfg(spec, 'source_only'), 5) == {
        'randomness.seed': 5
    }
    one = seed_spec(spec, 3)
    assert one['work_dir'] == osp.join(spec['work_dir'], 'seed_3')
    assert 'data' not in one and one['seeds'] is None
    assert one['pseudo_labels']['seed'] == 3
    cfg = load_step_cfg(one, 'stage2')
    assert cfg.randomness.seed == 3 and cfg.train_dataloader.dataset.seed == 3
    # The spec's own options are kept.
    assert cfg.train_cfg.max_iters == 2
    assert spec['cfg_options']['stage2'].get('randomness.seed') is None


def test_aggregate_tables_by_hand():
    classes = ['a', 'b', 'c']

    def table(iou, miou, gap):
        return dict(
            classes=classes,
            gap_closed=gap,
            rows=[dict(key='stage2', method='Stage 2', IoU=iou, mIoU=miou)])

    agg = aggregate_tables({
        0: table([10.0, None, 30.0], 20.0, 0.5),
        1: table([20.0, None, None], 20.0, None),
        2: table([60.0, None, 40.0], 50.0, 0.7)
    })
    row = agg['rows'][0]
    assert agg['seeds'] == [0, 1, 2] and sorted(
        agg['per_seed']) == ['0', '1', '2']
    assert row['IoU'][0] == pytest.approx(30.0)
    assert row['IoU_std'][0] == pytest.approx(
        ((20**2 + 10**2 + 30**2) / 2)**0.5)
    assert row['IoU'][1] is None and row['IoU_std'][1] is None
    assert row['IoU'][2] == pytest.approx(35.0)  # seeds 0 and 2 only
    assert row['IoU_std'][2] == pytest.approx(statistics.stdev([30, 40]))
    assert row['mIoU'] == pytest.approx(30.0)
    assert row['mIoU_per_seed'] == [20.0, 20.0, 50.0]
    assert agg['gap_closed'] == pytest.approx(0.6)
    assert 'pseudo_label_coverage' not in agg
    md = format_markdown_seeds(agg)
    assert ('| Stage 2 | 30.00 ± 26.46 | - | 35.00 ± 7.07 | 30.00 ± 17.32 |'
            in md)
    assert 'per seed: 60.0 ± 14.1%' in md
    assert mean_std([4.0]) == (4.0, None)
    with pytest.raises(ValueError, match='other rows'):
        aggregate_tables({
            0: table([1.0] * 3, 1.0, None),
            1: dict(classes=classes, rows=[])
        })


def _check_aggregate(work: str, seeds, keys) -> None:
    """The aggregated results.json/results.md against a hand computation
    from the per-seed results.json files."""
    per_seed = {}
    for s in seeds:
        with open(osp.join(work, f'seed_{s}', 'results.json')) as f:
            per_seed[s] = json.load(f)
        assert [r['key'] for r in per_seed[s]['rows']] == keys
    with open(osp.join(work, 'results.json')) as f:
        agg = json.load(f)
    assert agg['seeds'] == list(seeds)
    assert agg['per_seed'] == {str(s): t for s, t in per_seed.items()}
    md = open(osp.join(work, 'results.md')).read()
    for i, row in enumerate(agg['rows']):
        rows = [per_seed[s]['rows'][i] for s in seeds]
        assert row['key'] == keys[i]
        for c in range(len(agg['classes'])):
            mean, std = _hand([r['IoU'][c] for r in rows])
            assert _close(row['IoU'][c], mean), (row['key'], c)
            assert _close(row['IoU_std'][c], std), (row['key'], c)
        mean, std = _hand([r['mIoU'] for r in rows])
        assert _close(row['mIoU'], mean) and _close(row['mIoU_std'], std)
        assert row['mIoU_per_seed'] == [r['mIoU'] for r in rows]
        assert (f'| {row["method"]} |' in md
                and f'| {mean:.2f} ± {std:.2f} |' in md)
    cov = _hand([t['pseudo_label_coverage'] for t in per_seed.values()])
    assert _close(agg['pseudo_label_coverage'], cov[0])
    assert _close(agg['pseudo_label_coverage_std'], cov[1])


# Two seeds of every ablation row trained end to end: 2.6 min of a 12-minute
# idle `make test`, so `make test-all` only; the aggregation it checks is
# tested by hand above and the pipeline end to end in test_run_pipeline.py.
@pytest.mark.slow
def test_seeds_and_ablation_end_to_end(tmp_path, monkeypatch, capsys):
    spec = _tiny_spec(tmp_path)
    spec_file = tmp_path / 'spec.py'
    spec_file.write_text('\n'.join(f'{k} = {v!r}' for k, v in spec.items()))
    monkeypatch.chdir(ROOT)  # --ablation: the demo's repo-relative configs
    tool = _load_tool()
    assert tool.main(
        ['--pipeline',
         str(spec_file), '--seeds', '0', '1', '--ablation']) == 0
    work = spec['work_dir']
    keys = ['source_only', 'stage1', 'pseudo_labels', 'stage2'
            ] + list(ABLATION_STEPS)
    _check_aggregate(work, (0, 1), keys)
    for name in ('results.md', 'results.json', 'per_class_iou.png'):
        assert osp.isfile(osp.join(work, name)), name
    for s in (0, 1):
        seed_dir = osp.join(work, f'seed_{s}')
        for step in ABLATION_STEPS:
            assert osp.isfile(osp.join(seed_dir, step, 'iter_2.pth')), step
        assert osp.isfile(osp.join(seed_dir, 'results.md'))
        # The seed reached the runner (its dumped config) and the pairing.
        dumped = Config.fromfile(osp.join(seed_dir, 'stage2', 'stage2.py'))
        assert dumped.randomness.seed == s
        assert dumped.train_dataloader.dataset.seed == s
        # Stage 2's log opens with its pseudo labels' flag: the warning
        # where the report flags a class (the tiny models may), else a line.
        log = ''.join(
            open(f).read() for f in glob.glob(
                osp.join(seed_dir, 'stage2', '*', '*.log')))
        report = read_report(osp.join(seed_dir, 'pseudo_labels'))
        assert ('never keep' if report['flagged'] else
                'no class flagged') in log
        # Stage-2 rows start from stage 1, the reference-timing rows from
        # their own init (none in the demo: from scratch).
        stage1 = osp.join(seed_dir, 'stage1', 'iter_2.pth')
        for step in ABLATION_STEPS:
            got = Config.fromfile(osp.join(
                seed_dir, step, osp.basename(DEMO_ABLATION[step]))).load_from
            assert got == (None if step in OWN_INIT_STEPS else stage1), step
    # Data generated once, outside the seed folders.
    assert osp.isfile(
        osp.join(spec['data']['out_dir'], 'synthetic_stats.json'))
    assert sorted(n for n in os.listdir(work)
                  if n.startswith('seed_')) == ['seed_0', 'seed_1']
    md = open(osp.join(work, 'results.md')).read()
    assert 'Stage 2, CL on target labels (upper bound)' in md
    assert md.index('Stage 2 (FDA + CL)') < md.index('Stage 2, FDA only')

    # A rerun skips everything; --status lists every step as done.
    again = SeedSweep(dict(spec, seeds=[0, 1], ablation=True))
    table = again.run()
    assert again.ran == [] and again.skipped == again.steps()
    assert table['seeds'] == [0, 1]
    capsys.readouterr()
    assert tool.main([
        '--pipeline',
        str(spec_file), '--seeds', '0', '1', '--ablation', '--status'
    ]) == 0
    out = capsys.readouterr().out
    assert out.count(' done') == len(again.steps()) and 'to do' not in out


def test_aggregate_of_other_seeds_is_redone(tmp_path):
    """A results.json left by a run of one seed does not pass for the
    aggregate of several (runs of single seeds side by side, then all)."""
    spec = dict(_tiny_spec(tmp_path), seeds=[0, 1])
    sweep = SeedSweep(spec)
    os.makedirs(sweep.work_dir, exist_ok=True)
    for s, path in sweep._seed_results().items():
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(dict(rows=[]), f)
    with open(sweep.results_file, 'w') as f:
        json.dump(dict(seeds=[1], rows=[]), f)
    assert not sweep.is_done('aggregate')
    with open(sweep.results_file, 'w') as f:
        json.dump(dict(seeds=[0, 1], rows=[]), f)
    assert sweep.is_done('aggregate')
