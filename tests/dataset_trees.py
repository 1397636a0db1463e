"""Generated trees in the real layouts of SYNTHIA, ACDC and Dark Zurich.

Small (32x64 frames) and seeded; the labels are blocky random scenes like
those of ``tests.helpers`` so tiny models can train on them.
"""
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

# SYNTHIA class id -> Cityscapes train id, written out apart from the library
# (the published map; every other id is ignored): the tests' expectation.
REFERENCE_SYNTHIA_TO_TRAINID: Dict[int, int] = {
    3: 0, 4: 1, 2: 2, 21: 3, 5: 4, 7: 5, 15: 6, 9: 7, 6: 8, 1: 10, 10: 11,
    17: 12, 8: 13, 19: 15, 12: 17, 11: 18
}
_SYNTHIA_IDS = np.array(sorted(REFERENCE_SYNTHIA_TO_TRAINID) + [0, 13, 22])


def _scene(rng: np.random.Generator, size: Tuple[int, int], values: np.ndarray
           ) -> Tuple[np.ndarray, np.ndarray]:
    h, w = size
    cells = rng.choice(values, size=(4, 8))
    label = cv2.resize(cells.astype(np.uint16), (w, h),
                       interpolation=cv2.INTER_NEAREST)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    img[..., 0] = (label * 11 % 255).astype(np.uint8)  # colour follows label
    return img, label


def make_synthia_tree(root: str, num: int = 4, size=(32, 64),
                      seed: int = 0) -> str:
    """``RGB/NNNNNNN.png`` and 16-bit ``GT/LABELS/NNNNNNN.png`` (class id in
    R, instance id in G, as SYNTHIA-RAND-CITYSCAPES ships them)."""
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'RGB'), exist_ok=True)
    os.makedirs(osp.join(root, 'GT', 'LABELS'), exist_ok=True)
    for i in range(num):
        img, ids = _scene(rng, size, _SYNTHIA_IDS)
        bgr = np.zeros(size + (3, ), np.uint16)
        bgr[..., 2] = ids                                    # R: class id
        bgr[..., 1] = rng.integers(0, 3000, size)            # G: instance
        bgr[..., 0] = 3                                      # B: unused
        name = f'{i:07d}.png'
        cv2.imwrite(osp.join(root, 'RGB', name), img)
        cv2.imwrite(osp.join(root, 'GT', 'LABELS', name), bgr)
    return root


def _frames(rng, img_dir: str, gt_dir: str, seq: str, num: int, size,
            labeled: bool) -> None:
    os.makedirs(img_dir, exist_ok=True)
    if labeled:
        os.makedirs(gt_dir, exist_ok=True)
    for i in range(num):
        img, label = _scene(rng, size, np.arange(19))
        stem = f'{seq}_frame_{i:06d}'
        cv2.imwrite(osp.join(img_dir, stem + '_rgb_anon.png'), img)
        if labeled:
            cv2.imwrite(osp.join(gt_dir, stem + '_gt_labelTrainIds.png'),
                        label.astype(np.uint8))


def make_acdc_tree(root: str,
                   conditions: Sequence[str] = ('fog', 'night', 'rain',
                                                'snow'),
                   splits: Sequence[Tuple[str, int]] = (('train', 2),
                                                        ('val', 1),
                                                        ('test', 1)),
                   size=(32, 64), seed: int = 2) -> str:
    """``rgb_anon/<condition>/<split>/<seq>/*_rgb_anon.png`` and
    ``gt/<condition>/<split>/<seq>/*_gt_labelTrainIds.png`` (no test gt)."""
    rng = np.random.default_rng(seed)
    for c, condition in enumerate(conditions):
        for split, num in splits:
            seq = f'GOPR{c:02d}{len(split):02d}'
            _frames(rng, osp.join(root, 'rgb_anon', condition, split, seq),
                    osp.join(root, 'gt', condition, split, seq), seq, num,
                    size, labeled=split != 'test')
    return root


def make_dark_zurich_tree(root: str, num_train: int = 4, num_val: int = 2,
                          num_test: int = 1, size=(32, 64),
                          seed: int = 3) -> str:
    """``rgb_anon/train/{day,twilight,night}/<seq>/``, ``rgb_anon/{val,test}
    /night/<seq>/`` and ``gt/val/night/<seq>/`` (Dark Zurich's layout)."""
    rng = np.random.default_rng(seed)
    for condition in ('day', 'twilight', 'night'):
        _frames(rng, osp.join(root, 'rgb_anon', 'train', condition,
                              f'GOPR03{len(condition)}'), '',
                f'GOPR03{len(condition)}', num_train, size, labeled=False)
    for split, num, seq in (('val', num_val, 'GOPR0356'),
                            ('test', num_test, 'GOPR0364')):
        _frames(rng, osp.join(root, 'rgb_anon', split, 'night', seq),
                osp.join(root, 'gt', split, 'night', seq), seq, num, size,
                labeled=split == 'val')
    return root
