"""GPU check: every training mode on DeepLabV2 ResNet-101 at 512x1024, in
fp32, bf16 autocast and bf16 + channels-last, one table.

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

``gpu_check.sh`` bounds the run (``GPU_CHECK_TIMEOUT``, 300 s); the
default 3 variants x 7 modes x (3 + 15) iterations are sized for one H100.
``--device cpu --quick`` (or ``--tiny``) runs the same code on the CPU with
a small trunk (ResNetV1c-18, 4 base channels) at 64x128, which is what the
tests do.

Usage::

    python tools/benchmarks/gpu_check.py [--device cuda] [--iters 15]
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

R101_CFG = osp.join(ROOT, 'configs', '_base_', 'models',
                    'deeplabv2_r101-d8.py')
#: Variant -> (amp, channels_last, compile).
VARIANTS: Dict[str, tuple] = {
    'fp32': (None, False, False),
    'bf16': ('bf16', False, False),
    'bf16-cl': ('bf16', True, False),
    'bf16-cl-compile': ('bf16', True, True),
}
DEFAULT_VARIANTS = ('fp32', 'bf16', 'bf16-cl')


def base_cfg(tiny: bool, crop) -> dict:
    """The plain model config: DeepLabV2 R101, or the tiny CPU stand-in."""
    if tiny:
        from mmseg_fdacl.demo.models import deeplabv2_cfg
        return deeplabv2_cfg(depth=18, base_channels=4, crop=crop)
    from mmengine.config import Config
    cfg = Config.fromfile(R101_CFG).model.to_dict()
    cfg['data_preprocessor']['size'] = tuple(crop)
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
    amp, channels_last, compiled = VARIANTS[variant]
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
    data = _pinned(bench_modes.mode_batch(mode, args.batch, args.crop))
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(args.device)
    time_iters(model, optim, data, args.warmup, args.device, ema=ema)
    times = [
        time_iters(model, optim, data, 1, args.device, ema=ema)
        for _ in range(args.iters)
    ]
    peak = torch.cuda.max_memory_allocated(args.device) if cuda else None
    share = None
    if ema is not None:
        share = teacher_share(model, optim, ema, data, 3, args.device)['share']
    del model, optim, ema
    sec = statistics.median(times)
    return dict(
        variant=variant,
        mode=mode,
        s_iter=sec,
        img_s=args.batch / sec,
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
        default=list(DEFAULT_VARIANTS))
    parser.add_argument(
        '--modes',
        nargs='+',
        choices=tuple(bench_modes.MODES),
        default=list(bench_modes.MODES),
        help='modes to run (default: all); source-only, the baseline of the '
        'ratios, always runs')
    args = parser.parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error('no CUDA device; use --device cpu --quick on a CPU')
    args.crop = tuple(args.crop or ((64, 128) if args.tiny else (512, 1024)))
    args.iters = args.iters or (3 if args.tiny else 15)
    args.warmup = args.warmup or (1 if args.tiny else 3)
    modes = [
        m for m in bench_modes.MODES if m == 'source-only' or m in args.modes
    ]
    cfg = base_cfg(args.tiny, args.crop)
    name = (
        torch.cuda.get_device_name(args.device)
        if args.device.startswith('cuda') else 'CPU')
    model_name = ('DeepLabV2 ResNetV1c-18/4ch (tiny)'
                  if args.tiny else 'DeepLabV2 ResNet-101')
    print(
        f'{name}; torch {torch.__version__}; {model_name}, crop '
        f'{args.crop[0]}x{args.crop[1]} (HxW), batch {args.batch}, random '
        f'weights, each mode with its leaf config\'s optimizer wrapper; '
        f'{args.warmup} warm-up + {args.iters} timed iterations per mode '
        f'and variant, medians; load average {load_text()}\n',
        flush=True)
    t_start = time.perf_counter()
    rows = []
    # Rows are printed as they come, so a run stopped by the time limit
    # still shows what it measured.
    header = [
        'variant', 'mode', 's/iter', 'images/s', 'x source-only',
        'peak GPU MiB', 'teacher fwd + EMA share'
    ]
    print(table(header, []), flush=True)
    for variant in args.variants:
        base_s = None
        for mode in modes:
            row = check(mode, variant, cfg, args)
            base_s = base_s or row['s_iter']
            row['ratio'] = row['s_iter'] / base_s
            rows.append(row)
            peak = ('n/a' if row['peak_bytes'] is None else
                    f'{row["peak_bytes"] / 2**20:.0f}')
            share = ('-' if row['teacher_share'] is None else
                     f'{100 * row["teacher_share"]:.1f}%')
            print(
                table(header, [[
                    variant, mode, f'{row["s_iter"]:.3f}',
                    f'{row["img_s"]:.2f}', f'{row["ratio"]:.2f}', peak, share
                ]]).split('\n', 2)[2],
                flush=True)
    print(f'\ntotal {time.perf_counter() - t_start:.0f} s; load average '
          f'{load_text()}')
    return rows


if __name__ == '__main__':
    main()
