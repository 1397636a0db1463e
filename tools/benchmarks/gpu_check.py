"""GPU check: every training mode on DeepLabV2 ResNet-101 at 512x1024, in
fp32, bf16 autocast and bf16 + channels-last, and DAFormer, HRDA and
MIC(HRDA) on MiT-B5 at 1024x1024, batch 2, in fp32, bf16 and bf16 with
activation checkpointing, one table.

Each mode of :mod:`modes` (source-only, stage 1, stage 2, dacs,
daformer-recipe, mic, fda-cl-online) is its leaf config's model
(``configs/_base_/models/deeplabv2_r101-d8.py`` trunk, random weights), its
optimizer wrapper and its teacher (``TeacherEMA`` with the leaf's alpha,
attached as ``MeanTeacherHook`` attaches it; the EMA update is part of each
timed iteration). Per variant (``--variants``):

* ``fp32``: the leaf as it is;
* ``bf16``: ``configs/_base_/amp_bf16.py`` merged into the optimizer
  wrapper (mmengine's ``AmpOptimWrapper`` in bfloat16, no loss scaling);
* ``bf16-cl``: that plus ``UDADataPreProcessor(memory_format=
  'channels_last')`` and NHWC weights;
* ``bf16-cl-compile``: that plus ``torch.compile`` of the student's
  backbone in place (``nn.Module.compile``; not in the default list:
  compiling every mode takes minutes).

each mode is built on the device, trained ``--warmup`` untimed and
``--iters`` timed iterations through ``model.train_step`` on generated
batches (batch 1, source and target crops of ``--crop``), and the table
gives seconds per iteration (median), images/s (source images per second),
the ratio to source-only of the same variant, the peak memory allocated by
torch (``torch.cuda.max_memory_allocated``, reset per mode, one mode on the
device at a time) and the online modes' teacher share (its forward plus the
EMA update over three more iterations). Batches are copied to the device
from pinned memory with ``non_blocking=True`` (the preprocessor's
``non_blocking``), as a dataloader with ``pin_memory=True`` gives them.

The MiT modes (``source-only-mit``, ``daformer``, ``hrda``, ``mic-hrda``,
run first) are the leaves of ``configs/fdacl/daformer_mit-b5_*.py`` on
MiT-B5 with the DAFormer head (``configs/_base_/models/
daformer_sepaspp_mitb5.py``, random weights; the ImageNet feature distance
gets a randomly initialized MiT-B5 checkpoint as its stand-in for ImageNet's,
which changes no shape or cost), all at ``--mit-crop`` (1024x1024, HRDA's
training crop; DAFormer's own recipe trains at 512x512) with batch
``--mit-batch`` (2, the recipes'), ``--mit-warmup`` 1 + ``--mit-iters`` 3
iterations and one iteration for the teacher share, per ``--mit-variants``:
``fp32``, ``bf16`` and ``bf16-cp`` (bf16 plus ``configs/_base_/models/
mit_with-cp.py``: activation checkpointing of the MiT blocks; ``fp32-cp``
on request). Their ratios are to ``source-only-mit`` of the same variant. A
mode that runs out of GPU memory gets an ``OOM`` row and the check goes on.

``gpu_check.sh`` bounds the run (``GPU_CHECK_TIMEOUT``, 300 s). Sizing for
one H100 (not yet run on one): the DeepLabV2 part, 3 variants x 7 modes x
(3 + 15 + 3) iterations at roughly 19 source-only iterations of ~0.05 s
per round of all modes, about 60 s of iterations plus ~2 s per model build,
so ~100 s; the MiT part, 3 variants x 4 modes x (1 + 3 + 1) iterations,
with MIC(HRDA) at ~15 TFLOP per iteration (3 views with gradients of 2
images as context + detail crop, the teacher's context + 9 detail windows,
the feature distance) at an effective ~15 TFLOP/s in fp32 (~1 s/iter;
bf16 about half), about 4 x 5 x 1 s + 2 x that in bf16 = ~60 s of
iterations plus ~6 s per MiT-B5 build and stand-in checkpoint = ~130 s;
~230 s in all. ``--device cpu --quick`` (or ``--tiny``) runs the same code
on the CPU with a small trunk (ResNetV1c-18, 4 base channels) at 64x128 and
a one-block-per-stage MiT at 64x64, which is what the tests do.

Usage::

    python tools/benchmarks/gpu_check.py [--device cuda] [--iters 15]
    python tools/benchmarks/gpu_check.py --modes mic-hrda --mit-variants bf16-cp
    python tools/benchmarks/gpu_check.py --device cpu --quick
"""
import argparse
import os.path as osp
import statistics
import sys
import time
from typing import Dict, List

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
import modes as bench_modes  # noqa: E402
from harness import load_text, table, teacher_share, time_iters  # noqa: E402
from mit_network import MIT_QUICK, mit_cfg  # noqa: E402

R101_CFG = osp.join(ROOT, 'configs', '_base_', 'models',
                    'deeplabv2_r101-d8.py')
MIT_CP_CFG = osp.join(ROOT, 'configs', '_base_', 'models', 'mit_with-cp.py')
#: Variant -> (amp, channels_last, compile, activation checkpointing).
VARIANTS: Dict[str, tuple] = {
    'fp32': (None, False, False, False),
    'bf16': ('bf16', False, False, False),
    'bf16-cl': ('bf16', True, False, False),
    'bf16-cl-compile': ('bf16', True, True, False),
    'fp32-cp': (None, False, False, True),
    'bf16-cp': ('bf16', False, False, True),
}
DEFAULT_VARIANTS = ('fp32', 'bf16', 'bf16-cl')
#: The MiT modes' default variants.
DEFAULT_MIT_VARIANTS = ('fp32', 'bf16', 'bf16-cp')


def base_cfg(tiny: bool, crop) -> dict:
    """The plain model config: DeepLabV2 R101, or the tiny CPU stand-in."""
    if tiny:
        from mmseg_fdacl.demo.models import deeplabv2_cfg
        return deeplabv2_cfg(depth=18, base_channels=4, crop=crop)
    from mmengine.config import Config
    cfg = Config.fromfile(R101_CFG).model.to_dict()
    cfg['data_preprocessor']['size'] = tuple(crop)
    return cfg


def mit_base_cfg(tiny: bool, crop, with_cp: bool) -> dict:
    """MiT-B5 with the DAFormer head, or the tiny CPU stand-in; with
    ``with_cp`` the backbone gets ``configs/_base_/models/mit_with-cp.py``."""
    from mmengine.config import Config
    size = dict(MIT_QUICK) if tiny else {}
    cfg = mit_cfg(crop=crop, **size)
    if with_cp:
        cfg['backbone'].update(Config.fromfile(MIT_CP_CFG).mit_with_cp)
    return cfg


def _pinned(data: dict) -> dict:
    """The batch's image tensors in pinned memory (where a CUDA host is)."""
    if not torch.cuda.is_available():
        return data
    out = dict(data)
    for key in ('inputs', 'target_inputs'):
        if key in out:
            out[key] = [x.pin_memory() for x in out[key]]
    return out


def check(mode: str, variant: str, cfg: dict, args) -> dict:
    """Train ``mode`` for a few iterations in ``variant``; seconds, images/s,
    peak bytes and, for the online modes, the teacher's share."""
    cuda = args.device.startswith('cuda')
    amp, channels_last, compiled, _ = VARIANTS[variant]
    mit = bench_modes.MODES[mode].network == 'mit'
    batch, crop = ((args.mit_batch, args.mit_crop) if mit else
                   (args.batch, args.crop))
    try:
        return _check(mode, variant, cfg, args, cuda, amp, channels_last,
                      compiled, batch, crop)
    except torch.cuda.OutOfMemoryError:
        if not cuda:
            raise
        peak = torch.cuda.max_memory_allocated(args.device)
        torch.cuda.empty_cache()
        return dict(
            variant=variant, mode=mode, s_iter=None, img_s=None,
            peak_bytes=peak, teacher_share=None, oom=True)


def _check(mode, variant, cfg, args, cuda, amp, channels_last, compiled,
           batch, crop) -> dict:
    mit = bench_modes.MODES[mode].network == 'mit'
    model, optim, ema = bench_modes.build_mode(
        mode,
        cfg,
        args.device,
        amp=amp,
        channels_last=channels_last,
        non_blocking=cuda)
    if compiled:
        # In place (nn.Module.compile): parameter names stay those the
        # teacher's EMA and the checkpoints use; the teacher, copied before,
        # runs eager.
        model.backbone.compile()
    data = _pinned(bench_modes.mode_batch(mode, batch, crop))
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(args.device)
    warmup, iters = ((args.mit_warmup, args.mit_iters) if mit else
                     (args.warmup, args.iters))
    time_iters(model, optim, data, warmup, args.device, ema=ema)
    times = [
        time_iters(model, optim, data, 1, args.device, ema=ema)
        for _ in range(iters)
    ]
    peak = torch.cuda.max_memory_allocated(args.device) if cuda else None
    share = None
    if ema is not None:
        share = teacher_share(model, optim, ema, data, 1 if mit else 3,
                              args.device)['share']
    del model, optim, ema
    sec = statistics.median(times)
    return dict(
        variant=variant,
        mode=mode,
        s_iter=sec,
        img_s=batch / sec,
        peak_bytes=peak,
        teacher_share=share)


def main(argv=None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument(
        '--quick',
        '--tiny',
        dest='tiny',
        action='store_true',
        help='CPU smoke size: ResNetV1c-18/4ch at 64x128, 3 '
        'iterations')
    parser.add_argument('--iters', type=int, default=None)
    parser.add_argument('--warmup', type=int, default=None)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument(
        '--crop', type=int, nargs=2, default=None, metavar=('H', 'W'))
    parser.add_argument(
        '--variants',
        nargs='+',
        choices=tuple(VARIANTS),
        default=list(DEFAULT_VARIANTS),
        help='variants of the DeepLabV2 modes')
    parser.add_argument(
        '--mit-variants',
        nargs='+',
        choices=tuple(VARIANTS),
        default=list(DEFAULT_MIT_VARIANTS),
        help='variants of the MiT modes (default fp32 bf16 bf16-cp)')
    parser.add_argument(
        '--modes',
        nargs='+',
        choices=tuple(bench_modes.MODES),
        default=list(bench_modes.MODES),
        help='modes to run (default: all); the source-only mode of their '
        'network, the baseline of the ratios, always runs')
    parser.add_argument(
        '--mit-crop', type=int, nargs=2, default=None, metavar=('H', 'W'),
        help='crop of the MiT modes (default 1024 1024; 64 64 with --quick)')
    parser.add_argument('--mit-batch', type=int, default=2)
    parser.add_argument('--mit-iters', type=int, default=None)
    parser.add_argument('--mit-warmup', type=int, default=None)
    args = parser.parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error('no CUDA device; use --device cpu --quick on a CPU')
    args.crop = tuple(args.crop or ((64, 128) if args.tiny else (512, 1024)))
    args.iters = args.iters or (3 if args.tiny else 15)
    args.warmup = args.warmup or (1 if args.tiny else 3)
    args.mit_crop = tuple(args.mit_crop
                          or ((64, 64) if args.tiny else (1024, 1024)))
    args.mit_iters = args.mit_iters or (1 if args.tiny else 3)
    args.mit_warmup = args.mit_warmup or 1
    modes = bench_modes.with_baselines(args.modes)
    mit_modes = [m for m in modes if bench_modes.MODES[m].network == 'mit']
    dl_modes = [m for m in modes if m not in mit_modes]
    # the MiT part first: a run stopped by the time limit keeps MIC(HRDA)
    plan = [(v, mit_modes) for v in args.mit_variants if mit_modes]
    plan += [(v, dl_modes) for v in args.variants if dl_modes]
    name = (
        torch.cuda.get_device_name(args.device)
        if args.device.startswith('cuda') else 'CPU')
    model_name = ('DeepLabV2 ResNetV1c-18/4ch (tiny)'
                  if args.tiny else 'DeepLabV2 ResNet-101')
    mit_name = ('MiT embed 8, 1-1-1-1 blocks, head 32 (tiny)'
                if args.tiny else 'MiT-B5 + DAFormer head')
    print(
        f'{name}; torch {torch.__version__}; random weights, generated '
        'batches, each mode with its leaf config\'s optimizer wrapper, '
        f'medians; load average {load_text()}', flush=True)
    if mit_modes:
        print(
            f'MiT modes: {mit_name}, crop {args.mit_crop[0]}x'
            f'{args.mit_crop[1]}, batch {args.mit_batch}, {args.mit_warmup} '
            f'warm-up + {args.mit_iters} timed iterations, ratios to '
            'source-only-mit; the feature distance\'s ImageNet backbone is a '
            'random stand-in checkpoint', flush=True)
    if dl_modes:
        print(
            f'DeepLabV2 modes: {model_name}, crop {args.crop[0]}x'
            f'{args.crop[1]} (HxW), batch {args.batch}, {args.warmup} '
            f'warm-up + {args.iters} timed iterations, ratios to source-only',
            flush=True)
    print(flush=True)
    t_start = time.perf_counter()
    rows = []
    # Rows are printed as they come, so a run stopped by the time limit
    # still shows what it measured.
    header = [
        'variant', 'mode', 's/iter', 'images/s', 'x source-only',
        'peak GPU MiB', 'teacher fwd + EMA share'
    ]
    print(table(header, []), flush=True)
    for variant, part in plan:
        base_s = None
        if part is mit_modes:
            cfg = mit_base_cfg(args.tiny, args.mit_crop, VARIANTS[variant][3])
        else:
            cfg = base_cfg(args.tiny, args.crop)
        for mode in part:
            row = check(mode, variant, cfg, args)
            if row['s_iter'] is not None and mode == bench_modes.MODES[
                    mode].baseline:
                base_s = row['s_iter']
            row['ratio'] = (None if row['s_iter'] is None or base_s is None
                            else row['s_iter'] / base_s)
            rows.append(row)
            peak = ('n/a' if row['peak_bytes'] is None else
                    f'{row["peak_bytes"] / 2**20:.0f}')
            share = ('-' if row['teacher_share'] is None else
                     f'{100 * row["teacher_share"]:.1f}%')
            if row.get('oom'):
                cells = [variant, mode, 'OOM', '-', '-', f'> {peak}', '-']
            else:
                cells = [
                    variant, mode, f'{row["s_iter"]:.3f}',
                    f'{row["img_s"]:.2f}',
                    '-' if row['ratio'] is None else f'{row["ratio"]:.2f}',
                    peak, share
                ]
            print(table(header, [cells]).split('\n', 2)[2], flush=True)
    print(f'\ntotal {time.perf_counter() - t_start:.0f} s; load average '
          f'{load_text()}')
    return rows


if __name__ == '__main__':
    main()
