"""Training-iteration time of every training mode against source-only, each
beside its floor.

Every mode of :mod:`modes` (``--modes``, default the DeepLabV2 ones:
source-only, stage 1, stage 2, dacs, daformer-recipe, mic, fda-cl-online) is
built from its leaf
config in ``configs/fdacl/`` (segmentor, switches, losses, preprocessor,
optimizer wrapper, teacher EMA alpha) at the benchmark's standard size: the
DeepLabV2 of :func:`mmseg_fdacl.demo.models.deeplabv2_cfg` (ResNetV1c trunk,
output stride 8, DLV2Head; ``--depth``/``--base-channels``, standard 18/16),
``--crop`` (standard 256x512) for source and target, ``--batch`` (standard
1), random weights. The MiT modes (``--modes daformer hrda mic-hrda``) are
the DAFormer, HRDA and MIC(HRDA) leaves on a small MiT with the DAFormer head
(``--mit-embed-dims``/``--mit-layers``/``--mit-head-channels``, standard
MiT-B0: 32, 2-2-2-2, head 256; :mod:`mit_network`) at the same crop and
batch, HRDA's detail crop and MIC's mask blocks at the leaf's ratio to the
crop, and their ratios are to ``source-only-mit``, the DAFormer student on
the source alone on that same network. The online modes get their teacher as
``MeanTeacherHook`` gives it (``TeacherEMA`` with the leaf's alpha, attached
with ``attach_teacher``) and every timed iteration includes its EMA update.

Each iteration is the runner's own path, ``model.train_step(data,
optim_wrapper)`` (preprocessor, forward, losses, backward, step), on batches
built once in memory, so data loading is measured on its own
(``--breakdown``). The modes are timed interleaved (``--reps`` rounds, each
timing ``--iters`` iterations of every mode in a rotating order); a mode's
figure is the median of its per-round ratios to source-only, which cancels
the load drifts of a shared machine.

The floor of a mode is its views with gradients (stage 2: source, target
and its source-stylized copy = 3 source-only iterations); the floor with the
no-gradient forwards adds, per teacher or frozen ImageNet-backbone forward,
one forward without gradients of the source batch, timed in the same rounds
(its ratio to a source-only iteration is printed). ``x floor`` is the
measured ratio over that second floor.

Outside the timed rounds, per mode: peak memory of one iteration (on CUDA
``torch.cuda.max_memory_allocated`` above the start, on CPU the
``torch.profiler`` allocation peak) plus its resident tensors (student and
teacher weights and buffers, optimizer state); and for the online modes the
teacher's share: its forward (hooks on the teacher's backbone and decode
head) plus the EMA update over the same iterations' seconds.

``--amp bf16`` merges ``configs/_base_/amp_bf16.py`` into each mode's
optimizer wrapper (bf16 autocast; on a CPU ``CPUAmpOptimWrapper``), ``--amp
both`` interleaves fp32 and bf16 rounds. ``--channels-last on`` sets the
preprocessor's ``memory_format='channels_last'`` (and NHWC weights),
``both`` interleaves both layouts. ``--breakdown`` gives the share of a
stage-2 iteration in FDA, the losses and data loading; ``--profile`` the
torch.profiler table of one iteration of every mode. ``--quick`` is a toy
size for smoke tests (its figures mean nothing).

Usage::

    OMP_NUM_THREADS=1 python tools/benchmarks/bench_train_iter.py \\
        [--depth 18 --base-channels 16 --crop 256 512 --batch 1 --reps 7] \\
        [--modes stage2 dacs ...] [--amp both] [--breakdown] [--profile]
"""
import argparse
import os.path as osp
import statistics
import sys
from typing import Dict, List

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import modes as bench_modes  # noqa: E402
from breakdown import breakdown, profile_tables  # noqa: E402
from harness import (
    gradient_views,
    interleaved,
    load_text,  # noqa: E402
    no_grad_forward_seconds,
    paired_ratios,
    peak_bytes,
    table,
    teacher_share,
    time_iters)
from mmseg_fdacl.demo.batches import fresh_batch as _fresh  # noqa: E402,F401
from mmseg_fdacl.demo.batches import make_batch  # noqa: E402,F401
from mmseg_fdacl.demo.models import deeplabv2_cfg  # noqa: E402

#: Every mode, in table order.
MODES = tuple(bench_modes.MODES)
#: The default modes: those on DeepLabV2 (the MiT modes by ``--modes``).
DEFAULT_MODES = bench_modes.modes_of('deeplabv2')
#: The default modes trained with a mean teacher (read from their leaves;
#: the MiT leaves are read only when their modes run).
ONLINE_MODES = tuple(
    m for m in DEFAULT_MODES if bench_modes.teacher_alpha(m) is not None)
#: The views each mode forwards with gradients.
VIEW_NAMES = {m: bench_modes.MODES[m].views for m in MODES}
VIEWS = {m: len(v) for m, v in VIEW_NAMES.items()}
mode_cfg = bench_modes.model_cfg
QUICK = dict(crop=(32, 64), base_channels=4, reps=1, iters=1)
#: The MiT modes' base at ``--quick`` (its crop: ``MIT_QUICK_CROP``).
MIT_QUICK_CROP = (64, 64)


def build(cfg: dict, device: str = 'cpu'):
    """``(model, SGD optim wrapper)`` of a model config (for tests and the
    other benchmarks; the modes train with their leaf's wrapper)."""
    model = bench_modes.build_model(cfg, device=device)
    return model, bench_modes.build_sgd(model)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--depth', type=int, default=18)
    parser.add_argument(
        '--base-channels',
        type=int,
        default=None,
        help='trunk width (default 16; 4 with --quick)')
    parser.add_argument(
        '--crop',
        type=int,
        nargs=2,
        default=None,
        metavar=('H', 'W'),
        help='source and target crop (default 256 512; 32 64 with --quick)')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument(
        '--reps',
        type=int,
        default=None,
        help='interleaved rounds (default 7; 1 with --quick)')
    parser.add_argument(
        '--iters',
        type=int,
        default=None,
        help='iterations per mode per round (default 2; 1 '
        'with --quick)')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--quick',
        action='store_true',
        help='toy size for a smoke test: crop 32x64, 4 base channels, 1 '
        'round of 1 iteration (figures mean nothing)')
    parser.add_argument(
        '--modes',
        nargs='+',
        choices=MODES,
        default=list(DEFAULT_MODES),
        help='modes to time (default: the DeepLabV2 ones); the source-only '
        'mode of their network, the baseline of the ratios, always runs '
        '(source-only-mit for daformer, hrda, mic-hrda)')
    parser.add_argument(
        '--mit-embed-dims',
        type=int,
        default=None,
        help='MiT modes: first-stage width (default 32, MiT-B0; 8 with '
        '--quick; 64 is MiT-B5)')
    parser.add_argument(
        '--mit-layers',
        type=int,
        nargs=4,
        default=None,
        help='MiT modes: blocks per stage (default 2 2 2 2, MiT-B0; 1 1 1 1 '
        'with --quick; 3 6 40 3 is MiT-B5)')
    parser.add_argument(
        '--mit-head-channels',
        type=int,
        default=None,
        help="MiT modes: the DAFormer head's width (default 256, "
        "DAFormer's; 32 with --quick)")
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--forward-views',
        choices=('separate', 'joint', 'both'),
        default='both',
        help="UDAEncoderDecoder.forward_views of the UDA modes; 'both' "
        'times stage 2 both ways (the other modes separate)')
    parser.add_argument(
        '--amp',
        choices=('none', 'bf16', 'both'),
        default='none',
        help="bf16 autocast (configs/_base_/amp_bf16.py); 'both' "
        'interleaves fp32 and bf16 rounds')
    parser.add_argument(
        '--channels-last',
        choices=('off', 'on', 'both'),
        default='off',
        help="the preprocessor's memory_format='channels_last' with NHWC "
        "weights; 'both' interleaves NCHW and NHWC rounds")
    parser.add_argument('--breakdown', action='store_true')
    parser.add_argument('--profile', action='store_true')
    args = parser.parse_args(argv)
    defaults = dict(crop=(256, 512), base_channels=16, reps=7, iters=2)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, QUICK[key] if args.quick else value)
    mit_crop = args.quick and 'crop' not in _given(argv)
    if mit_crop and set(args.modes) - set(DEFAULT_MODES):
        # HRDA halves the crop twice (context at 0.5, detail crop of half
        # the side) and MiT downsamples by 32: 32x64 is too small.
        args.crop = MIT_QUICK_CROP
    args.crop = tuple(args.crop)
    quick_mit = bench_modes_quick() if args.quick else {}
    if args.mit_embed_dims is None:
        args.mit_embed_dims = quick_mit.get('embed_dims', 32)
    if args.mit_layers is None:
        args.mit_layers = quick_mit.get('num_layers', [2, 2, 2, 2])
    if args.mit_head_channels is None:
        args.mit_head_channels = quick_mit.get('head_channels', 256)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: no CUDA device here')
    if args.breakdown and 'stage2' not in args.modes:
        parser.error('--breakdown times stage 2; add stage2 to --modes')
    args.modes = bench_modes.with_baselines(args.modes)
    return args


def _given(argv) -> set:
    """The ``--crop``-style keys given on the command line."""
    argv = sys.argv[1:] if argv is None else argv
    return {a[2:].replace('-', '_') for a in argv if a.startswith('--')}


def bench_modes_quick() -> dict:
    """The MiT base's ``--quick`` size."""
    from mit_network import MIT_QUICK
    return dict(MIT_QUICK)


def bases(args) -> Dict[str, dict]:
    """The plain model of each network at the benchmark's size."""
    from mit_network import mit_cfg
    out = dict(
        deeplabv2=deeplabv2_cfg(
            depth=args.depth, base_channels=args.base_channels,
            crop=args.crop))
    if any(bench_modes.MODES[m].network == 'mit' for m in args.modes):
        out['mit'] = mit_cfg(
            embed_dims=args.mit_embed_dims,
            num_layers=args.mit_layers,
            head_channels=args.mit_head_channels,
            crop=args.crop)
    return out


def _fmt_ms(sec: float) -> str:
    return f'{sec * 1e3:.1f}'


def _check_views(models: Dict[str, tuple], batches: Dict[str, dict]) -> None:
    """Every UDA mode must forward the views with gradients its entry
    names (stage 2: each with a gradient)."""
    for key, (model, _, _) in models.items():
        mode = key.split(' ')[0]
        if mode == 'source-only':
            continue
        if mode == bench_modes.MODES[mode].baseline:
            continue
        names = VIEW_NAMES[mode]
        per = bench_modes.MODES[mode].feats_per_view
        norms = gradient_views(model, batches[key])
        print(f'{key}: gradient norm at the backbone output per view '
              f'({", ".join(names)})' + (f', {per} backbone calls each '
                                         '(context, detail)' if per > 1 else
                                         '') + ': ' +
              ', '.join(f'{v:.3g}' for v in norms))
        if len(norms) != len(names) * per:
            raise RuntimeError(f'{key}: {len(norms)} backbone calls with '
                               f'gradients, expected {len(names) * per} '
                               f'({names})')
        if mode == 'stage2' and min(norms) <= 0:
            raise RuntimeError(f'{key}: a view gets no gradient: {norms}')
    if any(k.startswith('mic') for k in models):
        print('(mic: the masked view gets 0 at random weights: no teacher '
              'pixel is above confidence 0.968, so the quality weight is 0; '
              'its forward and backward run all the same)')


def _entries(args, base: Dict[str, dict]):
    """The variants (``(amp, channels_last)``), ``{(variant, key): (model,
    optim, ema)}`` and their batches."""
    views = (['separate', 'joint']
             if args.forward_views == 'both' else [args.forward_views])
    amps = dict(none=[None], bf16=['bf16'], both=[None, 'bf16'])[args.amp]
    layouts = dict(
        off=[False], on=[True], both=[False, True])[args.channels_last]
    variants = [(a, c) for a in amps for c in layouts]
    entries, batches = {}, {}
    for amp, cl in variants:
        for mode in args.modes:
            # source-only has one view: no forward_views
            for fv in (['separate'] if mode == 'source-only' else views):
                joint = fv == 'joint'
                if joint and mode != 'stage2' and len(views) > 1:
                    continue
                key = f'{mode} (joint)' if joint else mode
                entries[((amp, cl), key)] = bench_modes.build_mode(
                    mode, base[bench_modes.MODES[mode].network], args.device,
                    fv, amp, channels_last=cl)
                batches[((amp, cl), key)] = bench_modes.mode_batch(
                    mode, args.batch, args.crop)
    return variants, entries, batches


def _tag(variant) -> str:
    amp, cl = variant
    return ('fp32' if amp is None else amp +
            ' autocast') + (', channels-last' if cl else '')


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = args.device
    variants, entries, batches = _entries(args, bases(args))
    baselines = [m for m in args.modes if bench_modes.MODES[m].baseline == m]
    dev_name = ('CPU'
                if device == 'cpu' else torch.cuda.get_device_name(device))
    print(
        f'torch {torch.__version__}, {dev_name}, '
        f'{torch.get_num_threads()} thread(s); ' +
        (f'DeepLabV2 ResNetV1c-{args.depth} (base channels '
         f'{args.base_channels}, output stride 8, DLV2Head), ' if 'source-only'
         in args.modes else 'MiT modes only, ') +
        f'crop {args.crop[0]}x{args.crop[1]} (HxW), batch '
        f'{args.batch}, random weights, each mode with its leaf config\'s '
        f'optimizer wrapper; {args.reps} interleaved rounds x {args.iters} iterations, '
        f'medians; load average at the start {load_text()}')
    if 'source-only-mit' in args.modes:
        layers = '-'.join(str(n) for n in args.mit_layers)
        print(f'MiT modes (ratios to source-only-mit): MixVisionTransformer '
              f'embed_dims {args.mit_embed_dims}, blocks {layers}, DAFormer '
              f'head width {args.mit_head_channels}, same crop and batch, '
              'the DAFormer leaf\'s AdamW wrapper for source-only-mit')
    if args.quick:
        print('(--quick: toy size, the figures mean nothing)')
    print()
    first = variants[0]
    _check_views({
        k: v
        for (a, k), v in entries.items() if a == first
    }, {
        k: v
        for (a, k), v in batches.items() if a == first
    })
    print()

    fns = {}
    for e, (model, optim, ema) in entries.items():
        fns[e] = (lambda m=model, o=optim, d=batches[e], t=ema: time_iters(
            m, o, d, args.iters, device, ema=t))
    for var in variants:  # the unit of the no-gradient forwards
        for b in baselines:
            model = entries[(var, b)][0]
            fns[(var, 'forward', b)] = (
                lambda m=model, d=batches[(var, b)], a=var[0]:
                no_grad_forward_seconds(m, d, args.iters, device, a))
    res = interleaved(fns, args.reps)
    peaks = {e: peak_bytes(*entries[e], batches[e], device) for e in entries}
    share_iters = max(args.iters, 3)
    shares = {
        e: teacher_share(*entries[e], batches[e], share_iters, device)
        for e in entries if entries[e][2] is not None
    }
    mem_how = ('max_memory_allocated'
               if device.startswith('cuda') else 'torch.profiler')
    rows = []
    for var in variants:
        tag = _tag(var)
        fwds = {}
        for b in baselines:
            fwds[b] = statistics.median(
                paired_ratios(res[(var, 'forward', b)], res[(var, b)]))
            print(f'{tag}: one forward without gradients = {fwds[b]:.2f} '
                  f'{b} iterations (median of per-round ratios)')
        print()
        cells = []
        speed = var != first
        for (a, key), _ in entries.items():
            if a != var:
                continue
            mode = bench_modes.MODES[key.split(' ')[0]]
            base_times = res[(var, mode.baseline)]
            med_base = statistics.median(base_times)
            times = res[(var, key)]
            med = statistics.median(times)
            ratios = paired_ratios(times, base_times)
            share = shares.get((var, key))
            floor = mode.floor + mode.no_grad_forwards * fwds[mode.baseline]
            row = dict(
                precision=tag,
                mode=key,
                baseline=mode.baseline,
                views=len(mode.views),
                no_grad=len(mode.no_grad),
                floor_views=mode.floor,
                floor=floor,
                s_iter=med,
                ratio=med / med_base,
                ratio_paired=statistics.median(ratios),
                ratio_min=min(ratios),
                ratio_max=max(ratios),
                over_floor=statistics.median(ratios) / floor,
                peak_bytes=peaks[(var, key)],
                teacher_share=None if share is None else share['share'])
            cell = [
                tag, key, row['views'], row['no_grad'], f'{mode.floor:.1f}',
                f'{floor:.2f}', f'{med:.3f}', f'{row["ratio_paired"]:.2f}',
                f'{row["ratio_min"]:.2f}-{row["ratio_max"]:.2f}',
                f'{row["over_floor"]:.2f}', f'{row["peak_bytes"] / 2**20:.1f}',
                '-' if share is None else f'{100 * share["share"]:.1f}%'
            ]
            if speed:
                row['speedup'] = statistics.median(
                    [f / t for f, t in zip(res[(first, key)], times)])
                cell.append(f'{row["speedup"]:.2f}')
            rows.append(row)
            cells.append(cell)
        print(
            table([
                'precision', 'mode', 'views', 'no-grad forwards',
                'floor (views)', 'floor (+ no-grad forwards)',
                's/iter (median)',
                ('x source-only of its network (median of per-round '
                 'ratios)' if len(baselines) > 1 else
                 'x source-only (median of per-round ratios)'),
                'rounds min-max ratio', 'x floor',
                f'peak MiB ({mem_how} + resident)', 'teacher fwd + EMA share'
            ] + ([f'{_tag(first)} time / this (median of per-round ratios)']
                 if speed else []), cells))
        print()
    if shares:
        cells = []
        for (var, key), share in shares.items():
            tag = _tag(var)
            cells.append([
                tag, key,
                _fmt_ms(share['teacher']),
                _fmt_ms(share['ema']),
                _fmt_ms(share['iteration']), f'{100 * share["share"]:.1f}%'
            ])
            rows.append(
                dict(
                    precision=tag,
                    online=key,
                    teacher_s=share['teacher'],
                    ema_s=share['ema'],
                    iteration_s=share['iteration'],
                    share=share['share']))
        print(
            table([
                'precision', 'online mode', 'teacher forward ms/iter',
                'EMA update ms/iter',
                f'iteration ms ({share_iters} more iterations, timers '
                'on)', 'teacher fwd + EMA share'
            ], cells))
        print()
    notes = [
        f'{m.name}: {m.note}' for m in bench_modes.MODES.values()
        if m.note and m.name in args.modes
    ]
    print(f'Peak MiB: one iteration (EMA update included) outside the '
          f'rounds; {mem_how} peak of its allocations plus the mode\'s '
          f'resident tensors (student and teacher weights and buffers, '
          f'optimizer state). No-grad forwards: ' +
          '; '.join(f'{m}: ' + ', '.join(bench_modes.MODES[m].no_grad)
                    for m in args.modes if bench_modes.MODES[m].no_grad) +
          '. Benchmark changes to the leaf configs: ' +
          ('; '.join(notes) if notes else 'none') + '.')
    print(f'Load average at the end: {load_text()}')
    print()

    if args.breakdown:
        key = (first, 'stage2')
        s_iter = statistics.median(res[key])
        parts = breakdown(*entries[key][:2], batches[key], max(args.iters, 3),
                          args.crop, args.batch, s_iter, device)
        cells = []
        for name, label in (('fda', 'FDA (2 calls, in the preprocessor)'),
                            ('losses', 'losses fwd+bwd (CE, entropy, '
                             'contrastive)'),
                            ('data', 'data loading, 1 batch, num_workers=0 '
                             '(overlapped by workers in training)')):
            cells.append([
                label,
                _fmt_ms(parts[name]), f'{100 * parts[name] / s_iter:.1f}%'
            ])
            rows.append(
                dict(
                    part=name, seconds=parts[name],
                    share=parts[name] / s_iter))
        print(
            table([
                'stage-2 part (forward_views=separate)', 'ms/iter',
                f'share of the {_fmt_ms(s_iter)} ms iteration'
            ], cells))
        print()
    if args.profile:
        sub = {k: v for (a, k), v in entries.items() if a == first}
        print(
            profile_tables(sub, {
                k: v
                for (a, k), v in batches.items() if a == first
            }))
    return rows


if __name__ == '__main__':
    main()
