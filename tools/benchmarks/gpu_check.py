"""GPU check: DeepLabV2 ResNet-101, 1024x512: source-only, stage 1, stage 2
and the online self-training modes.

For each mode (as in ``bench_train_iter.py``: stage 2 = FDA both ways, source
CE, target entropy and the pixel contrastive loss, every view with gradients;
``dacs``, ``mic`` and ``fda-cl-online`` = online self-training with a mean
teacher, :func:`mmseg_fdacl.demo.models.online_mode_cfg`) the model of
``configs/_base_/models/deeplabv2_r101-d8.py`` (random weights) is built on
the device, trained for ``--warmup`` untimed and ``--iters`` timed iterations
through ``model.train_step`` on generated batches (batch 1, 1024x512 crops
for source and target), and the script prints seconds per iteration
(median), images/s (source images per second) and the peak memory allocated
by torch (``torch.cuda.max_memory_allocated``, reset per mode, one mode's
model on the device at a time). The online modes' teacher is a
:class:`TeacherEMA` (alpha 0.999) attached as ``MeanTeacherHook`` attaches
it; its EMA update is part of each timed iteration, and three more
iterations give the teacher's share (its forward plus the EMA update over
the iteration, ``bench_train_iter.teacher_share``). With ``--amp fp16`` or
``--amp bf16`` the optimizer wrapper is mmengine's ``AmpOptimWrapper`` (GPU
only, as mmengine requires). ``--modes`` picks modes (default all). Not yet
run on a GPU with the online modes, which about triple the run time going by
the CPU ratios of ``bench_train_iter.py`` (``gpu_check.sh`` stops at
``GPU_CHECK_TIMEOUT``, 300 s by default).

``--device cpu --tiny`` runs the same code on the CPU with a small trunk
(ResNetV1c-18, 4 base channels) at 64x128, which is what the tests do.

Usage::

    python tools/benchmarks/gpu_check.py [--device cuda] [--iters 30]
    python tools/benchmarks/gpu_check.py --device cpu --tiny
"""
import argparse
import os.path as osp
import statistics
import sys
import time
from typing import List

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
import bench_train_iter as bti  # noqa: E402

R101_CFG = osp.join(ROOT, 'configs', '_base_', 'models',
                    'deeplabv2_r101-d8.py')


def base_cfg(tiny: bool, crop) -> dict:
    """The plain model config: DeepLabV2 R101, or the tiny CPU stand-in."""
    if tiny:
        return bti.deeplabv2_cfg(depth=18, base_channels=4, crop=crop)
    from mmengine.config import Config
    cfg = Config.fromfile(R101_CFG).model.to_dict()
    cfg['data_preprocessor']['size'] = tuple(crop)
    return cfg


def build(cfg: dict, device: str, amp: str):
    from mmengine.optim import build_optim_wrapper
    model, _ = bti.build(cfg, device=device)
    wrapper = dict(
        type='OptimWrapper',
        optimizer=dict(
            type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=5e-4))
    if amp != 'none':
        wrapper.update(type='AmpOptimWrapper', dtype=dict(
            fp16='float16', bf16='bfloat16')[amp], loss_scale='dynamic')
    return model, build_optim_wrapper(model, wrapper)


def check(mode: str, cfg: dict, args) -> dict:
    """Train ``mode`` for a few iterations; seconds, images/s, peak bytes
    and, for the online modes, the teacher's share."""
    cuda = args.device.startswith('cuda')
    model, optim = build(bti.mode_cfg(mode, cfg, args.forward_views),
                         args.device, args.amp)
    ema = bti.build_teacher(model, alpha=0.999)
    data = bti.make_batch(mode, args.batch, args.crop)
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(args.device)
    bti.time_iters(model, optim, data, args.warmup, args.device, ema=ema)
    times = []
    for _ in range(args.iters):
        times.append(
            bti.time_iters(model, optim, data, 1, args.device, ema=ema))
    peak = torch.cuda.max_memory_allocated(args.device) if cuda else None
    share = None
    if ema is not None:
        share = bti.teacher_share(model, optim, ema, data, 3,
                                  args.device)['share']
    del model, optim, ema
    sec = statistics.median(times)
    return dict(mode=mode, s_iter=sec, img_s=args.batch / sec,
                peak_bytes=peak, teacher_share=share)


def main(argv=None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--tiny', action='store_true')
    parser.add_argument('--iters', type=int, default=None)
    parser.add_argument('--warmup', type=int, default=None)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument(
        '--crop', type=int, nargs=2, default=None, metavar=('H', 'W'))
    parser.add_argument(
        '--amp', choices=('none', 'fp16', 'bf16'), default='none')
    parser.add_argument(
        '--forward-views', choices=('separate', 'joint'), default='separate')
    parser.add_argument(
        '--modes',
        nargs='+',
        choices=bti.MODES,
        default=list(bti.MODES),
        help='modes to run (default: all); source-only, the baseline of the '
        'ratios, always runs')
    args = parser.parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error('no CUDA device; use --device cpu --tiny on a CPU')
    if args.amp != 'none' and not args.device.startswith('cuda'):
        parser.error("mmengine's AmpOptimWrapper needs a GPU; use --amp none "
                     'on the CPU (bench_train_iter.py --amp bf16 times CPU '
                     'autocast)')
    args.crop = tuple(args.crop or ((64, 128) if args.tiny else (512, 1024)))
    args.iters = args.iters or (3 if args.tiny else 30)
    args.warmup = args.warmup or (1 if args.tiny else 5)
    modes = [m for m in bti.MODES if m == 'source-only' or m in args.modes]
    cfg = base_cfg(args.tiny, args.crop)
    name = (torch.cuda.get_device_name(args.device)
            if args.device.startswith('cuda') else 'CPU')
    model_name = ('DeepLabV2 ResNetV1c-18/4ch (tiny)'
                  if args.tiny else 'DeepLabV2 ResNetV1c-101')
    print(f'{name}; torch {torch.__version__}; {model_name}, crop '
          f'{args.crop[1]}x{args.crop[0]} (WxH), batch {args.batch}, random '
          f'weights, precision {args.amp if args.amp != "none" else "fp32"}, '
          f'forward_views={args.forward_views}; {args.warmup} warm-up + '
          f'{args.iters} timed iterations per mode, medians\n')
    t_start = time.perf_counter()
    rows = []
    print('| mode | s/iter | images/s | x source-only | peak GPU MiB | '
          'teacher fwd + EMA share |')
    print('|---|---|---|---|---|---|')
    for mode in modes:
        row = check(mode, cfg, args)
        row['ratio'] = row['s_iter'] / rows[0]['s_iter'] if rows else 1.0
        rows.append(row)
        peak = ('n/a' if row['peak_bytes'] is None else
                f'{row["peak_bytes"] / 2**20:.0f}')
        share = ('-' if row['teacher_share'] is None else
                 f'{100 * row["teacher_share"]:.1f}%')
        print(f'| {mode} | {row["s_iter"]:.3f} | {row["img_s"]:.2f} | '
              f'{row["ratio"]:.2f} | {peak} | {share} |', flush=True)
    print(f'\ntotal {time.perf_counter() - t_start:.0f} s')
    return rows


if __name__ == '__main__':
    main()
