"""Inference images/s: whole image vs sliding window, side by side.

The DeepLabV2 model of ``bench_train_iter.py`` (ResNetV1c trunk, output
stride 8, DLV2Head, random weights, eval mode) predicts generated images
through ``model.test_step`` (the path of ``tools/test.py`` and of pseudo-label
generation: preprocessor, inference, resize to the original size, argmax)
with ``test_cfg`` ``mode='whole'`` and ``mode='slide'`` (crop and stride from
the command line; the default is the Cityscapes-style half-overlap tiling).
The two modes are timed interleaved over ``--reps`` rounds; figures are
medians, and the slide/whole ratio is the median of per-round ratios.

Usage::

    OMP_NUM_THREADS=1 python tools/benchmarks/bench_inference.py \
        [--size 512 1024 --crop 256 512 --stride 171 341 --reps 5]
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import time
from typing import List

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from harness import interleaved, load_text, table  # noqa: E402
from modes import build_model  # noqa: E402

from mmseg_fdacl.demo.batches import fresh_batch, make_batch  # noqa: E402
from mmseg_fdacl.demo.models import deeplabv2_cfg  # noqa: E402


def build_eval(test_cfg: dict, args):
    """An eval-mode model with ``test_cfg`` (same weights for every mode)."""
    from mmengine.config import ConfigDict
    cfg = deeplabv2_cfg(
        depth=args.depth, base_channels=args.base_channels,
        crop=tuple(args.size))
    cfg['data_preprocessor'].pop('size')  # whole images, any size
    cfg['data_preprocessor']['size_divisor'] = 8
    cfg['test_cfg'] = test_cfg
    return build_model(ConfigDict(cfg)).eval()


def time_predict(model, data: dict, iters: int) -> float:
    """Median seconds of one ``test_step`` on ``data``."""
    times = []
    with torch.no_grad():
        for _ in range(iters):
            batch = fresh_batch(data)
            t0 = time.perf_counter()
            model.test_step(batch)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--depth', type=int, default=18)
    parser.add_argument('--base-channels', type=int, default=16)
    parser.add_argument(
        '--size', type=int, nargs=2, default=(512, 1024), metavar=('H', 'W'))
    parser.add_argument(
        '--crop', type=int, nargs=2, default=(256, 512), metavar=('H', 'W'))
    parser.add_argument(
        '--stride', type=int, nargs=2, default=(171, 341),
        metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--iters', type=int, default=1)
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    modes = {
        'whole': dict(mode='whole'),
        'slide': dict(mode='slide', crop_size=tuple(args.crop),
                      stride=tuple(args.stride)),
    }
    models = {k: build_eval(v, args) for k, v in modes.items()}
    models['slide'].load_state_dict(models['whole'].state_dict())
    data = make_batch('source-only', args.batch, tuple(args.size))
    h, w = args.size
    ch, cw = args.crop
    sh, sw = args.stride
    tiles = ((max(h - ch, 0) + sh - 1) // sh + 1) * (
        (max(w - cw, 0) + sw - 1) // sw + 1)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread(s); '
          f'DeepLabV2 ResNetV1c-{args.depth} (base channels '
          f'{args.base_channels}), {h}x{w} (HxW) images, batch {args.batch},'
          f' model.test_step; slide: crop {ch}x{cw}, stride {sh}x{sw} '
          f'({tiles} tiles); {args.reps} interleaved rounds, medians; load '
          f'average {load_text()}\n')
    times = interleaved(
        {k: (lambda m=m: time_predict(m, data, args.iters))
         for k, m in models.items()}, args.reps)
    ratios = [s / w_ for s, w_ in zip(times['slide'], times['whole'])]
    rows, cells = [], []
    for k in models:
        med = statistics.median(times[k])
        ratio = 1.0 if k == 'whole' else statistics.median(ratios)
        rows.append(dict(mode=k, s_batch=med, img_s=args.batch / med,
                         time_ratio=ratio))
        cells.append([k, f'{med:.3f}', f'{args.batch / med:.2f}',
                      f'{ratio:.2f}'])
    print(table(['mode', 's/batch (median)', 'images/s',
                 'x whole (median of per-round ratios)'], cells))
    print()
    return rows


if __name__ == '__main__':
    main()
