"""Pseudo-label generation images/s with 1 and 2 processes (gloo, loopback).

:func:`mmseg_fdacl.apis.generate_pseudo_labels` (FDA target->source with a
per-image source reference, prediction, per-class threshold histograms, PNG
writing: both passes) runs on generated Cityscapes-layout target images with
a random-weight DeepLabV2 checkpoint (``bench_train_iter.py``'s model), once in
one process and once sharded over two processes joined by
``torch.distributed`` with the gloo backend on 127.0.0.1 (what
``tools/dist_*.sh`` do on a CPU machine). Every process uses ``--threads``
threads, so two processes use twice the cores. The two settings alternate
over ``--reps`` rounds, each into a fresh output folder (a finished folder
would be reused, not regenerated); the time is from a barrier before the
call to a barrier after it (process start-up and model building excluded),
and images/s counts both passes' images once.

``--profile`` runs one more generation per setting under ``cProfile`` in
every process and prints, per process, the seconds spent in each part of
the call: building the model (checkpoint load), listing the images and
hashing the settings, the inference pipeline (PNG decode), the FDA
reference read and FDA, the network (``test_step``), the threshold
histograms and the labels, writing the PNGs, and waiting in the collective
calls (``barrier``, ``all_reduce``). Parts that do not shrink with the
shard (model building, listing, hashing) and the waits are what keeps two
processes from halving the time.

Usage::

    OMP_NUM_THREADS=1 python tools/benchmarks/bench_pseudo_labels.py \
        [--num 16 --size 256 512 --reps 3] [--profile]
"""
import argparse
import cProfile
import os
import os.path as osp
import socket
import statistics
import sys
import pstats
import tempfile
import time
from typing import Dict, List

import torch
import torch.multiprocessing as mp

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from harness import load_text, table  # noqa: E402
from modes import build_model  # noqa: E402

from mmseg_fdacl.demo.batches import random_image, random_labels  # noqa: E402
from mmseg_fdacl.demo.models import deeplabv2_cfg  # noqa: E402


#: Profile parts: name -> (file name ending, function name) whose
#: cumulative time is the part's.
PARTS = {
    'model build + checkpoint load': ('pseudo_labels/predictor.py',
                                      'build_models'),
    'image list': ('pseudo_labels/driver.py', '_collect_images'),
    'settings hash + manifest': ('pseudo_labels/manifest.py',
                                 'make_settings'),
    'pipeline (PNG decode)': ('mmcv/transforms/base.py', '__call__'),
    'FDA reference read': ('pseudo_labels/predictor.py', '_reference_image'),
    'FDA': ('mmseg_fdacl/fda.py', 'fda_amplitude_swap'),
    'network (test_step)': ('mmengine/model/base_model/base_model.py',
                            'test_step'),
    'histograms': ('pseudo_labels/thresholds.py', 'confidence_histogram'),
    'labels (thresholds)': ('pseudo_labels/thresholds.py',
                            'apply_thresholds'),
    'PNG write': ('pseudo_labels/files.py', 'write_png'),
    'barrier': ('mmengine/dist/utils.py', 'barrier'),
    'all_reduce': ('mmengine/dist/dist.py', 'all_reduce'),
}


def profile_parts(prof: cProfile.Profile) -> Dict[str, float]:
    """Cumulative seconds of each of :data:`PARTS` in a profile."""
    stats = pstats.Stats(prof).stats
    out = {}
    for part, (suffix, func) in PARTS.items():
        out[part] = sum(v[3] for (f, _, name), v in stats.items()
                        if name == func and f.replace(os.sep, '/').endswith(
                            suffix))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_data(root: str, num: int, size, seed: int = 0) -> dict:
    """Write target (Cityscapes layout) and source (GTA5 layout) images."""
    import cv2
    import numpy as np
    rng = np.random.default_rng(seed)
    h, w = size
    trg = osp.join(root, 'cityscapes', 'leftImg8bit', 'train', 'city')
    src = osp.join(root, 'gta5', 'images')
    os.makedirs(trg, exist_ok=True)
    os.makedirs(src, exist_ok=True)
    os.makedirs(osp.join(root, 'gta5', 'labels'), exist_ok=True)
    for i in range(num):
        cv2.imwrite(
            osp.join(trg, f'city_{i:06d}_000019_leftImg8bit.png'),
            random_image(rng, h, w))
        cv2.imwrite(osp.join(src, f'{i:05d}.png'), random_image(rng, h, w))
        cv2.imwrite(
            osp.join(root, 'gta5', 'labels', f'{i:05d}_labelTrainIds.png'),
            random_labels(rng, h, w, 19))
    return dict(
        target=dict(
            type='CityscapesDataset',
            data_root=osp.join(root, 'cityscapes'),
            data_prefix=dict(img_path='leftImg8bit/train')),
        source=dict(
            type='GTA5Dataset',
            data_root=osp.join(root, 'gta5'),
            data_prefix=dict(img_path='images', seg_map_path='labels')))


def _worker(rank: int, world: int, port: int, job: dict, queue) -> None:
    import torch.distributed as dist
    torch.set_num_threads(job['threads'])
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
        world_size=world)
    try:
        from mmseg.utils import register_all_modules
        import mmseg_fdacl  # noqa: F401
        from mmseg_fdacl.apis import generate_pseudo_labels
        register_all_modules(init_default_scope=True)
        from mmengine.logging import MMLogger
        # The per-class report of every run is no timing: warnings only.
        MMLogger.get_current_instance().setLevel('WARNING')
        kwargs = dict(
            source_dataset=job['data']['source'], beta=0.01, device='cpu')
        # An untimed run into a scratch folder first: imports, lazy
        # initialization and caches are not what is compared.
        generate_pseudo_labels(job['model'], [job['ckpt']],
                               job['data']['target'], job['warm_dir'],
                               **kwargs)
        dist.barrier()
        prof = cProfile.Profile() if job.get('profile') else None
        t0 = time.perf_counter()
        if prof is not None:
            prof.enable()
        generate_pseudo_labels(job['model'], [job['ckpt']],
                               job['data']['target'], job['out_dir'],
                               **kwargs)
        if prof is not None:
            prof.disable()
        sec = time.perf_counter() - t0
        dist.barrier()
        if prof is not None:
            queue.put((rank, sec, profile_parts(prof)))
        elif rank == 0:
            queue.put(time.perf_counter() - t0)
    finally:
        dist.destroy_process_group()


def run(world: int, job: dict, start_method: str = 'spawn'):
    """Seconds of one generation with ``world`` processes; with
    ``job['profile']`` the ``(rank, seconds, parts)`` of every process."""
    ctx = mp.get_context(start_method)
    queue = ctx.SimpleQueue()
    port = _free_port()
    procs = [
        ctx.Process(target=_worker, args=(r, world, port, job, queue))
        for r in range(world)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError(f'a pseudo-label worker failed (world {world}): '
                           f'exit codes {[p.exitcode for p in procs]}')
    if job.get('profile'):
        return sorted(queue.get() for _ in range(world))
    return queue.get()


def main(argv=None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--depth', type=int, default=18)
    parser.add_argument('--base-channels', type=int, default=16)
    parser.add_argument('--num', type=int, default=16)
    parser.add_argument(
        '--size', type=int, nargs=2, default=(256, 512), metavar=('H', 'W'))
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--profile', action='store_true',
        help='one more run per setting under cProfile: seconds per part of '
        'the call, per process')
    parser.add_argument(
        '--start-method',
        choices=mp.get_all_start_methods(),
        default='fork' if 'fork' in mp.get_all_start_methods() else 'spawn',
        help='how the workers start (fork, as DataLoader workers on Linux, '
        'skips re-importing; start-up is not timed either way)')
    args = parser.parse_args(argv)
    cfg = deeplabv2_cfg(
        depth=args.depth, base_channels=args.base_channels,
        crop=tuple(args.size))
    cfg['data_preprocessor'].pop('size')
    cfg['data_preprocessor']['size_divisor'] = 8
    model = build_model(cfg)
    times = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as root:
        ckpt = osp.join(root, 'model.pth')
        torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
        data = make_data(root, args.num, args.size)
        print(f'torch {torch.__version__}, {args.threads} thread(s) per '
              f'process; DeepLabV2 ResNetV1c-{args.depth} (base channels '
              f'{args.base_channels}), {args.num} target images of '
              f'{args.size[0]}x{args.size[1]}, FDA beta 0.01, per-class '
              f'thresholds (two passes); {args.reps} alternating rounds, '
              f'medians; load average {load_text()}\n')
        for r in range(args.reps):
            for world in ((1, 2) if r % 2 == 0 else (2, 1)):
                job = dict(
                    model=cfg, ckpt=ckpt, data=data, threads=args.threads,
                    out_dir=osp.join(root, f'out_{r}_{world}'),
                    warm_dir=osp.join(root, f'warm_{r}_{world}'))
                times[world].append(run(world, job, args.start_method))
        profiled, text = (_profile(args, cfg, ckpt, data, root)
                          if args.profile else ([], ''))
    rows, cells = [], []
    base = statistics.median(times[1])
    for world, ts in times.items():
        med = statistics.median(ts)
        rows.append(dict(processes=world, seconds=med,
                         img_s=args.num / med, speedup=base / med))
        cells.append([world, f'{med:.2f}', f'{args.num / med:.2f}',
                      f'{base / med:.2f}'])
    print(table(['processes', 's (median)', 'images/s',
                 'speed-up over 1 process'], cells))
    if text:
        print()
        print(text)
    print(f'load average at the end: {load_text()}')
    print()
    return rows + profiled


def _profile(args, cfg: dict, ckpt: str, data: dict, root: str):
    """The seconds per part, per process, of one profiled generation with 1
    and with 2 processes: ``(rows, markdown table)``."""
    results = {}
    for world in (1, 2):
        job = dict(model=cfg, ckpt=ckpt, data=data, threads=args.threads,
                   out_dir=osp.join(root, f'profile_{world}'),
                   warm_dir=osp.join(root, f'profile_warm_{world}'),
                   profile=True)
        results[world] = run(world, job, args.start_method)
    procs = [(w, rank, sec, parts) for w, res in results.items()
             for rank, sec, parts in res]
    header = ['part (cumulative s, cProfile)'] + [
        f'{w} process{"es" if w > 1 else ""}, rank {r}'
        for w, r, _, _ in procs]
    cells = [[part] + [f'{parts[part]:.2f}' for _, _, _, parts in procs]
             for part in PARTS]
    cells.append(['whole call (wall)'] + [f'{sec:.2f}'
                                          for _, _, sec, _ in procs])
    rows = [dict(profile_world=w, rank=r, seconds=sec, parts=parts)
            for w, r, sec, parts in procs]
    return rows, table(header, cells)


if __name__ == '__main__':
    main()
