"""Smoke tests of tools/benchmarks: each runs at toy size and yields its rows.

No timing is asserted (that is what the benchmarks report); the tests check
that the comparisons run end to end, that every stage-2 view receives a
gradient, that the online modes run with their teacher and report peak memory
and the teacher's share, that the figures are finite, and that run_all writes
the markdown
with the command of every figure. Also the AMP path they rely on: FDA inside
the preprocessor runs under CPU bf16 autocast and the losses stay finite.
"""
import math
import os.path as osp
import sys

import pytest
import torch

from mmseg_fdacl.models.losses.pixel_contrast_loss import PixelContrastLoss
from mmseg_fdacl.models.segmentors import SelfTrainingEncoderDecoder

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BENCH = osp.join(ROOT, 'tools', 'benchmarks')
sys.path.insert(0, BENCH)

import bench_inference  # noqa: E402
import bench_losses  # noqa: E402
import bench_pseudo_labels  # noqa: E402
import bench_train_iter  # noqa: E402
import gpu_check  # noqa: E402
import run_all  # noqa: E402

TINY = ['--crop', '32', '64', '--base-channels', '4', '--reps', '1',
        '--iters', '1']


def _finite_positive(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_train_iter_rows_and_breakdown(capsys):
    teacher_logits = SelfTrainingEncoderDecoder._teacher_logits
    rows = bench_train_iter.main(TINY + ['--breakdown'])
    modes = {r['mode']: r for r in rows if 'mode' in r}
    online = ('dacs', 'daformer-recipe', 'mic', 'fda-cl-online')
    assert set(modes) == {'source-only', 'stage1', 'stage2',
                          'stage2 (joint)', *online}
    assert set(online) == set(bench_train_iter.ONLINE_MODES) & set(
        bench_train_iter.DEFAULT_MODES)
    assert modes['source-only']['ratio'] == 1.0
    for row in modes.values():
        assert _finite_positive(row['s_iter'])
        assert _finite_positive(row['ratio_paired'])
        assert isinstance(row['peak_bytes'], int) and row['peak_bytes'] > 0
        # the floor: views with gradients, plus the no-gradient forwards
        assert row['floor_views'] == row['views']
        assert row['floor'] >= row['floor_views']
        assert (row['floor'] > row['floor_views']) == (row['no_grad'] > 0)
        assert _finite_positive(row['over_floor'])
    assert modes['stage2']['floor'] == 3.0
    assert modes['mic']['views'] == 3 and modes['mic']['no_grad'] == 2
    for name, row in modes.items():
        if name in online:
            assert 0 < row['teacher_share'] < 1
        else:
            assert row['teacher_share'] is None
    # The online modes hold a teacher besides the student.
    assert modes['dacs']['peak_bytes'] > modes['source-only']['peak_bytes']
    shares = {r['online']: r for r in rows if 'online' in r}
    assert set(shares) == set(online)
    for share in shares.values():
        assert _finite_positive(share['teacher_s'])
        assert _finite_positive(share['ema_s'])
        assert share['teacher_s'] + share['ema_s'] < share['iteration_s']
    parts = {r['part']: r for r in rows if 'part' in r}
    assert set(parts) == {'fda', 'losses', 'data'}
    assert all(_finite_positive(p['seconds']) for p in parts.values())
    # the timer around the teacher is the script's only
    assert SelfTrainingEncoderDecoder._teacher_logits is teacher_logits
    out = capsys.readouterr().out
    assert 'gradient norm at the backbone output per view' in out
    assert ('fda-cl-online: gradient norm at the backbone output per view '
            '(source, target, source-stylized target, ClassMix)' in out)
    assert '| fp32 | stage2 | 3 |' in out
    assert '| fp32 | dacs | 2 |' in out and '| fp32 | mic | 3 |' in out
    assert '| fp32 | fda-cl-online | 4 |' in out
    assert '| fp32 | daformer-recipe | 2 | 2 |' in out
    assert 'one forward without gradients =' in out
    assert 'peak MiB (torch.profiler + resident)' in out
    assert 'teacher fwd + EMA share' in out
    assert 'teacher forward ms/iter' in out


def test_train_iter_modes_switch(capsys):
    rows = bench_train_iter.main(TINY + ['--modes', 'mic', '--forward-views',
                                         'joint'])
    # source-only, the baseline of the ratios, always runs
    assert [r['mode'] for r in rows if 'mode' in r] == [
        'source-only', 'mic (joint)'
    ]
    assert '| fp32 | mic (joint) | 3 |' in capsys.readouterr().out
    with pytest.raises(SystemExit):  # the breakdown is stage 2's
        bench_train_iter.parse_args(['--modes', 'dacs', '--breakdown'])


def test_modes_come_from_their_leaf_configs():
    """A mode is its recipe's leaf at the standard size: the segmentor,
    switches and optimizer wrapper of the leaf, the base's backbone."""
    import modes
    base = bench_train_iter.deeplabv2_cfg(base_channels=4, crop=(32, 64))
    cfg = modes.model_cfg('daformer-recipe', base)
    assert cfg['type'] == 'SelfTrainingEncoderDecoder'
    assert cfg['backbone'] == base['backbone']
    assert cfg['decode_head']['in_channels'] == 32
    assert cfg['imnet_feature_dist']['lambda_fd'] == 0.005
    assert cfg['data_preprocessor']['size'] == (32, 64)
    assert 'pretrained' not in cfg
    stage2 = modes.model_cfg('stage2', base)
    assert stage2['warmup_iters'] == 0  # the benchmark's one change
    assert stage2['contrast_loss']['form'] == 'cross_view'
    assert stage2['data_preprocessor']['fda']['beta'] == 0.09
    assert modes.teacher_alpha('dacs') == 0.99
    assert modes.teacher_alpha('mic') == 0.999
    assert modes.teacher_alpha('stage2') is None
    assert modes.optim_wrapper_cfg('mic')['optimizer']['type'] == 'AdamW'
    amp = modes.optim_wrapper_cfg('stage2', amp='bf16')
    assert amp['type'] == 'NonFiniteGuardAmpOptimWrapper'
    assert amp['dtype'] == 'bfloat16' and amp['optimizer']['type'] == 'SGD'
    cl = modes.model_cfg('source-only', base, channels_last=True)
    assert cl['data_preprocessor']['type'] == 'UDADataPreProcessor'
    assert cl['data_preprocessor']['memory_format'] == 'channels_last'
    with pytest.raises(KeyError, match='unknown benchmark mode'):
        modes.model_cfg('hrda-on-deeplabv2', base)
    with pytest.raises(ValueError, match='already registered'):
        modes.register(modes.MODES['dacs'])


def test_mic_block_size_follows_the_crop():
    def block(h, w):
        cfg = bench_train_iter.mode_cfg(
            'mic', bench_train_iter.deeplabv2_cfg(crop=(h, w)))
        return cfg['mask']['block_size']

    assert block(512, 1024) == 64  # MIC's
    assert block(128, 256) == 16
    assert block(32, 64) == 8


@pytest.mark.parametrize('forward_views', ['separate', 'joint'])
def test_every_stage2_view_gets_gradient(forward_views):
    base = bench_train_iter.deeplabv2_cfg(base_channels=4, crop=(32, 64))
    model, _ = bench_train_iter.build(
        bench_train_iter.mode_cfg('stage2', base, forward_views))
    data = bench_train_iter.make_batch('stage2', 2, (32, 64))
    norms = bench_train_iter.gradient_views(model, data)
    assert len(norms) == 3 and min(norms) > 0


def test_stage2_bf16_autocast_losses_finite():
    """mmengine runs the preprocessor inside the AMP context: FDA must not
    break under bf16 autocast, and every loss must stay finite."""
    base = bench_train_iter.deeplabv2_cfg(base_channels=4, crop=(32, 64))
    model, optim = bench_train_iter.build(
        bench_train_iter.mode_cfg('stage2', base))
    data = bench_train_iter.make_batch('stage2', 2, (32, 64))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        batch = model.data_preprocessor(bench_train_iter._fresh(data), True)
        losses = model(**batch, mode='loss')
    assert batch['inputs'].dtype == torch.float32
    assert {'loss_ce_src', 'loss_ent_trg', 'loss_cl'} <= set(losses)
    for key, value in losses.items():
        assert torch.isfinite(value).all(), key
    loss, _ = model.parse_losses(losses)
    loss.backward()
    assert all(
        torch.isfinite(p.grad).all() for p in model.parameters()
        if p.grad is not None)


def test_loss_measure_tracks_anchor_budget():
    """The loss benchmark's measurement runs and sees what max_samples
    bounds."""
    torch.manual_seed(0)
    embs, labels = bench_losses.make_inputs(128, 128, 'even')
    small = bench_losses.measure(
        PixelContrastLoss(max_samples=64), embs, labels, reps=1)
    big = bench_losses.measure(
        PixelContrastLoss(max_samples=512), embs, labels, reps=1)
    for sec, peak, working, anchors in (small, big):
        assert sec > 0 and 0 < working <= peak
    assert small[3] <= 64 < big[3] <= 512
    # The similarity matrices grow with the square of the anchors.
    assert big[2] > 4 * small[2]
    assert all(e.grad is None for e in embs)


def test_inference_rows():
    rows = bench_inference.main([
        '--size', '32', '64', '--crop', '16', '32', '--stride', '11', '21',
        '--base-channels', '4', '--reps', '1'
    ])
    assert [r['mode'] for r in rows] == ['whole', 'slide']
    assert all(_finite_positive(r['img_s']) for r in rows)


def test_pseudo_labels_one_and_two_processes():
    rows = bench_pseudo_labels.main([
        '--num', '2', '--size', '32', '64', '--base-channels', '4', '--reps',
        '1'
    ])
    assert [r['processes'] for r in rows] == [1, 2]
    assert all(_finite_positive(r['img_s']) for r in rows)


def test_gpu_check_cpu_quick(capsys):
    """The prepared GPU check runs end to end on the CPU: every mode in
    fp32, bf16 autocast (the project's CPUAmpOptimWrapper) and bf16 +
    channels-last, one table."""
    rows = gpu_check.main(['--device', 'cpu', '--quick', '--iters', '1',
                           '--modes', *bench_train_iter.DEFAULT_MODES])
    variants = list(gpu_check.DEFAULT_VARIANTS)
    assert [(r['variant'], r['mode']) for r in rows] == [
        (v, m) for v in variants for m in bench_train_iter.DEFAULT_MODES]
    assert all(_finite_positive(r['s_iter']) for r in rows)
    assert all(_finite_positive(r['img_s']) for r in rows)
    assert all(r['peak_bytes'] is None for r in rows)  # no GPU here
    for r in rows:
        assert (r['teacher_share'] is None) == (
            r['mode'] not in bench_train_iter.ONLINE_MODES)
    out = capsys.readouterr().out
    assert '| fp32 | stage2 |' in out and '| bf16-cl | fda-cl-online |' in out
    with pytest.raises(SystemExit):  # fp16 needs a loss scale: not a variant
        gpu_check.main(['--device', 'cpu', '--quick', '--variants', 'fp16'])


def test_run_all_writes_markdown_with_commands(tmp_path):
    out = tmp_path / 'benchmarks.md'
    text = run_all.main(
        ['--quick', '--only', 'inference', '--out', str(out)])
    assert out.read_text() == text
    assert text.startswith('# Benchmarks')
    assert 'Quick mode' in text
    assert ('Command: `OMP_NUM_THREADS=1 python tools/benchmarks/'
            'bench_inference.py' in text)
    assert '| whole |' in text and '| slide |' in text


def test_run_all_quick_train_iter_writes_every_mode(tmp_path):
    """`make bench`'s generator on the training modes at toy size: every
    mode, its floor and ratio, and the load average in the file."""
    out = tmp_path / 'benchmarks.md'
    text = run_all.main(
        ['--quick', '--only', 'train_iter', '--out', str(out)])
    for mode in bench_train_iter.DEFAULT_MODES:  # the MiT ones: their own
        assert f'| fp32 | {mode} |' in text
    assert 'floor (+ no-grad forwards)' in text
    assert 'Load average (1, 5, 15 min) before:' in text


def test_run_all_reports_a_failing_benchmark(tmp_path, monkeypatch):
    (tmp_path / 'bench_fail.py').write_text(
        'import sys\nsys.exit("bench_fail: bad --size")\n')
    monkeypatch.setattr(run_all, 'HERE', str(tmp_path))
    monkeypatch.setattr(run_all, 'BENCHMARKS', [
        ('fail', 'x', 'bench_fail.py', [], [], 'x')
    ])
    with pytest.raises(RuntimeError, match='bad --size'):
        run_all.main(['--quick', '--out', str(tmp_path / 'b.md')])
    assert not (tmp_path / 'b.md').exists()


def test_run_all_only_keeps_the_other_sections(tmp_path, monkeypatch):
    """`--only` reruns some benchmarks and keeps the other sections of the
    file, each with the date it ran."""
    (tmp_path / 'bench_ok.py').write_text(
        "print('| a | b |')\nprint('|---|---|')\nprint('| 1 | 2 |')\n")
    monkeypatch.setattr(run_all, 'HERE', str(tmp_path))
    monkeypatch.setattr(run_all, 'BENCHMARKS', [
        ('old', 'Old one', 'bench_ok.py', [], None, 'kept'),
        ('new', 'New one', 'bench_ok.py', [], None, 'rerun'),
        ('gone', 'Gone', 'bench_ok.py', [], None, 'never ran'),
    ])
    out = tmp_path / 'b.md'
    out.write_text('# Benchmarks\n\n- Date: 2026-01-02 03:04:05 UTC\n\n'
                   '## Old one\n\nold body\n\n## New one\n\nstale body\n\n'
                   '## Closing note\n\nold note\n')
    text = run_all.main(['--only', 'new', '--out', str(out)])
    assert '## Old one\n\nRun: 2026-01-02 03:04:05 UTC\n\nold body' in text
    assert 'stale body' not in text and '| 1 | 2 |' in text
    assert '## Gone' not in text and 'old note' not in text
    assert text.count('## Closing note') == 1
    assert 'kept from earlier runs' in text


MIT_MODES = ('daformer', 'hrda', 'mic-hrda')


def test_train_iter_mit_modes_quick(capsys):
    """The MiT modes run with --quick: ratios to source-only on the same
    small MiT, HRDA's two backbone calls per view, peak memory."""
    rows = bench_train_iter.main(['--quick', '--modes', *MIT_MODES])
    modes = {r['mode']: r for r in rows if 'mode' in r}
    # the baseline is source-only on the MiT, not the DeepLabV2 one
    assert list(modes) == ['source-only-mit', *MIT_MODES]
    assert modes['source-only-mit']['ratio'] == 1.0
    for name, row in modes.items():
        assert row['baseline'] == 'source-only-mit'
        assert _finite_positive(row['ratio_paired'])
        assert isinstance(row['peak_bytes'], int) and row['peak_bytes'] > 0
        assert (row['teacher_share'] is None) == (name == 'source-only-mit')
    # HRDA's view: context at half the side + detail crop of half the side
    assert modes['hrda']['floor_views'] == 1.0
    assert modes['mic-hrda']['floor_views'] == 1.5
    assert modes['daformer']['floor_views'] == 2.0
    assert modes['mic-hrda']['peak_bytes'] > modes['source-only-mit'][
        'peak_bytes']
    out = capsys.readouterr().out
    assert ('hrda: gradient norm at the backbone output per view (source, '
            'ClassMix), 2 backbone calls each (context, detail)' in out)
    assert 'x source-only of its network' not in out  # one network here
    assert 'one forward without gradients =' in out
    assert '| fp32 | mic-hrda | 3 | 2 | 1.5 |' in out


def test_mit_modes_graft_keeps_the_leaf_ratios():
    import mit_network
    import modes
    base = mit_network.mit_cfg(crop=(256, 256), **mit_network.MIT_QUICK)
    cfg = modes.model_cfg('mic-hrda', base)
    assert cfg['type'] == 'HRDASelfTrainingEncoderDecoder'
    assert cfg['backbone'] == base['backbone']
    assert cfg['hr_crop_size'] == (128, 128)  # 512 at 1024
    assert cfg['test_cfg']['crop_size'] == (256, 256)
    assert cfg['test_cfg']['stride'] == (128, 128)
    assert cfg['mask']['block_size'] == 16  # 64 at 1024
    assert cfg['imnet_feature_dist']['lambda_fd'] == 0.005
    head = cfg['decode_head']['single_scale_head']
    assert head['in_channels'] == [8, 16, 40, 64]
    assert 'pretrained' not in cfg
    so = modes.model_cfg('source-only-mit', base)
    assert so['type'] == 'EncoderDecoder'
    assert so['backbone'] == base['backbone']
    assert so['decode_head']['type'] == 'DAFormerHead'
    assert so['data_preprocessor']['size'] == (256, 256)
    # the real size: MiT-B5 as in the leaves
    b5 = mit_network.mit_cfg(crop=(1024, 1024))
    leaf = modes.leaf_config(modes.MODES['hrda'].config).model
    assert b5['backbone'] == leaf.backbone.to_dict()
    assert modes.model_cfg('hrda', b5)['hr_crop_size'] == (512, 512)


def test_gpu_check_mit_quick(capsys):
    """The GPU check's MiT part on the CPU: MIC(HRDA) with its baseline in
    fp32 and bf16 + activation checkpointing (mit_with-cp.py)."""
    rows = gpu_check.main(['--device', 'cpu', '--quick', '--modes',
                           'mic-hrda', '--mit-variants', 'fp32', 'bf16-cp'])
    assert [(r['variant'], r['mode']) for r in rows] == [
        (v, m) for v in ('fp32', 'bf16-cp')
        for m in ('source-only-mit', 'mic-hrda')]
    assert all(_finite_positive(r['s_iter']) for r in rows)
    assert rows[0]['ratio'] == 1.0 and _finite_positive(rows[1]['ratio'])
    cfg = gpu_check.mit_base_cfg(False, (1024, 1024), True)
    assert cfg['backbone']['with_cp'] is True
    assert cfg['backbone']['num_layers'] == [3, 6, 40, 3]
    out = capsys.readouterr().out
    assert 'MiT modes:' in out and 'random stand-in checkpoint' in out
    assert '| bf16-cp | mic-hrda |' in out
