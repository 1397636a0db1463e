"""Batched torch FDA against the per-image numpy reference, side by side.

For each size (512x512, 512x1024), batch (1, 8) and beta (0.01, 0.09) the
same float32 0-255 images (smooth scene-like patterns plus noise) go through

* ``numpy``: :func:`mmseg_fdacl.fda.fda_amplitude_swap_np`, the literal
  full-FFT reference in float64, one image at a time;
* ``torch``: :func:`mmseg_fdacl.fda.fda_amplitude_swap` on the whole batch
  (``method='auto'``), plus the two forced paths ``dft`` (window
  coefficients and a low-rank correction) and ``fft`` (real FFTs).

It prints images per second of each, the speed-up of each torch path over
numpy (per image), the largest absolute difference between the torch (auto)
and numpy outputs, and peak memory:

* numpy: ``tracemalloc`` peak during the per-image loop (numpy reports its
  buffers to tracemalloc), inputs excluded;
* torch: ``torch.profiler`` (``profile_memory=True``) CPU allocation and
  free events of one call, summed in time order and maximised, inputs
  excluded (the cached DFT matrices are warm, i.e. already allocated).

Timings are medians over ``--reps`` calls (numpy: per image, after a warm-up),
measured by default as this process's CPU time (``time.process_time``), which
other jobs on a shared machine do not inflate; ``--clock wall`` uses
``time.perf_counter``. Torch runs ``--threads`` threads (default 1; numpy's
FFT is single-threaded), so the ratio compares algorithms, not core counts.

Usage::

    OMP_NUM_THREADS=1 python tools/benchmarks/bench_fda.py [--reps 3]
"""
import argparse
import os.path as osp
import statistics
import sys
import time
import tracemalloc
from typing import Callable

import numpy as np
import torch

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from harness import load_text, torch_peak_bytes  # noqa: E402

from mmseg_fdacl.fda import (fda_amplitude_swap,  # noqa: E402
                             fda_amplitude_swap_np)

SIZES = ((512, 512), (512, 1024))  # (H, W)
BATCHES = (1, 8)
BETAS = (0.01, 0.09)
METHODS = ('auto', 'dft', 'fft')
CLOCK: Callable[[], float] = time.process_time


def make_images(n: int, h: int, w: int, seed: int) -> np.ndarray:
    """``n x 3 x h x w`` float32 images with photo-like low frequencies."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)
    out = np.empty((n, 3, h, w), dtype=np.float32)
    for i in range(n):
        freq = rng.uniform(1, 6, size=(3, 1, 1)).astype(np.float32)
        base = 120 + 70 * np.sin(freq * yy + rng.uniform(0, 6, (3, 1, 1))) \
            * np.cos(freq * xx)
        out[i] = np.clip(base + rng.normal(0, 20, (3, h, w)), 0, 255)
    return out


def run_numpy(src: np.ndarray, ref: np.ndarray, beta: float, reps: int):
    """Per-image numpy reference; returns outputs, seconds/image, peak.

    One warm-up call first (numpy's FFT caches its plans); each image is
    timed ``ceil(reps / N)`` times so batch 1 also gets ``reps`` samples.
    """
    fda_amplitude_swap_np(src[0].transpose(1, 2, 0),
                          ref[0].transpose(1, 2, 0), beta)
    outs, times = [], []
    tracemalloc.start()
    for s, r in zip(src, ref):
        s_hwc, r_hwc = s.transpose(1, 2, 0), r.transpose(1, 2, 0)
        for _ in range(-(-reps // len(src))):
            t0 = CLOCK()
            out = fda_amplitude_swap_np(s_hwc, r_hwc, beta)
            times.append(CLOCK() - t0)
        outs.append(out.transpose(2, 0, 1))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return np.stack(outs), statistics.median(times), peak


def run_torch(src: torch.Tensor, ref: torch.Tensor, beta: float, method: str,
              reps: int):
    """Batched torch path; returns output, seconds/image, peak bytes."""
    out = fda_amplitude_swap(src, ref, beta, method=method)  # warm caches
    times = []
    for _ in range(reps):
        t0 = CLOCK()
        fda_amplitude_swap(src, ref, beta, method=method)
        times.append(CLOCK() - t0)
    peak = torch_peak_bytes(
        lambda: fda_amplitude_swap(src, ref, beta, method=method))
    return out, statistics.median(times) / src.shape[0], peak


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--clock', choices=('process', 'wall'), default='process',
        help='process CPU time (robust on a shared machine) or wall time')
    parser.add_argument(
        '--sizes', type=int, nargs='+', default=None, metavar='H W',
        help='override sizes as H W pairs, e.g. --sizes 64 128')
    parser.add_argument('--batches', type=int, nargs='+', default=BATCHES)
    parser.add_argument('--betas', type=float, nargs='+', default=BETAS)
    args = parser.parse_args(argv)
    sizes = SIZES if args.sizes is None else tuple(
        zip(args.sizes[::2], args.sizes[1::2]))
    torch.set_num_threads(args.threads)
    global CLOCK
    CLOCK = time.process_time if args.clock == 'process' else time.perf_counter
    mib = 1024**2
    print(f'torch {torch.__version__}, numpy {np.__version__}, '
          f'torch threads {torch.get_num_threads()}, reps {args.reps}, '
          f'clock {args.clock}; load average {load_text()}')
    header = (f'{"size":>9} {"N":>2} {"beta":>5} | {"numpy img/s":>11} '
              + ' '.join(f'{m + " img/s":>11} {"x":>5}' for m in METHODS)
              + f' | {"max|diff|":>9} | {"np MiB":>7} '
              + ' '.join(f'{m + " MiB":>8}' for m in METHODS))
    print(header)
    print('-' * len(header))
    rows = []
    for h, w in sizes:
        for n in args.batches:
            src_np = make_images(n, h, w, seed=0)
            ref_np = make_images(n, h, w, seed=1)
            src, ref = torch.from_numpy(src_np), torch.from_numpy(ref_np)
            for beta in args.betas:
                np_out, np_time, np_peak = run_numpy(src_np, ref_np, beta,
                                                     args.reps)
                row = dict(size=(h, w), batch=n, beta=beta,
                           numpy_img_s=1 / np_time, numpy_peak=np_peak)
                for method in METHODS:
                    out, t, peak = run_torch(src, ref, beta, method,
                                             args.reps)
                    row[f'{method}_img_s'] = 1 / t
                    row[f'{method}_speedup'] = np_time / t
                    row[f'{method}_peak'] = peak
                    if method == 'auto':
                        row['max_abs_diff'] = float(
                            np.abs(out.numpy() - np_out).max())
                rows.append(row)
                print(f'{h:>4}x{w:<4} {n:>2} {beta:>5.2f} | '
                      f'{row["numpy_img_s"]:>11.2f} ' + ' '.join(
                          f'{row[m + "_img_s"]:>11.2f} '
                          f'{row[m + "_speedup"]:>5.1f}' for m in METHODS)
                      + f' | {row["max_abs_diff"]:>9.2e} | '
                      f'{np_peak / mib:>7.1f} ' + ' '.join(
                          f'{row[m + "_peak"] / mib:>8.1f}'
                          for m in METHODS))
    print('x: speed-up per image over numpy; MiB: peak working memory, '
          'inputs excluded (numpy: tracemalloc, torch: torch.profiler).')
    return rows


if __name__ == '__main__':
    main()
