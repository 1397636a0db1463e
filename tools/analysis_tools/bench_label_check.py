"""What the label-value check of ``SafeLoadAnnotations`` costs per image.

Writes a label PNG of each size (random train ids of ``--num-classes``
classes, 5% ignored pixels) into a temporary folder, then times, per image,

* ``load``: ``SafeLoadAnnotations()`` (read + decode, no value check);
* ``load+check``: ``SafeLoadAnnotations(num_classes=N)``;
* ``check``: :func:`mmseg_fdacl.datasets.checks.invalid_label_values` alone
  on the decoded map.

Timings are medians over ``--reps`` calls of this process's CPU time
(``time.process_time``, which other jobs on a shared machine do not
inflate), after a warm-up.

Usage::

    OMP_NUM_THREADS=1 python tools/analysis_tools/bench_label_check.py
"""
import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Callable, List

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from mmseg_fdacl.datasets.checks import invalid_label_values  # noqa: E402
from mmseg_fdacl.datasets.transforms import SafeLoadAnnotations  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time the label-value check of SafeLoadAnnotations.')
    parser.add_argument('--sizes', nargs='+', default=['720x1280',
                                                       '1052x1914'],
                        help='label sizes as HxW (default: 720x1280 '
                        '1052x1914, GTA5 resized and native)')
    parser.add_argument('--num-classes', type=int, default=19)
    parser.add_argument('--reps', type=int, default=30)
    return parser.parse_args(argv)


def median_ms(func: Callable[[], object], reps: int) -> float:
    """Median CPU milliseconds of ``func`` over ``reps`` calls."""
    func()
    times: List[float] = []
    for _ in range(reps):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1e3


def main(argv=None) -> None:
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            h, w = (int(v) for v in size.lower().split('x'))
            cells = rng.integers(0, args.num_classes, (h // 16, w // 16))
            label = cv2.resize(cells.astype(np.uint8), (w, h),
                               interpolation=cv2.INTER_NEAREST)
            label[rng.random((h, w)) < 0.05] = 255
            path = osp.join(tmp, f'{size}.png')
            cv2.imwrite(path, label)

            def results():
                return dict(seg_map_path=path, reduce_zero_label=False,
                            seg_fields=[])

            plain = SafeLoadAnnotations()
            checked = SafeLoadAnnotations(num_classes=args.num_classes)
            load = median_ms(lambda: plain(results()), args.reps)
            both = median_ms(lambda: checked(results()), args.reps)
            check = median_ms(
                lambda: invalid_label_values(label, args.num_classes),
                args.reps)
            rows.append((size, load, both, check))
    print(f'{"size (h x w)":>14} {"load ms":>9} {"load+check ms":>14} '
          f'{"check ms":>9} {"check/load":>10}')
    for size, load, both, check in rows:
        print(f'{size:>14} {load:9.2f} {both:14.2f} {check:9.3f} '
              f'{100 * check / load:9.1f}%')


if __name__ == '__main__':
    main()
