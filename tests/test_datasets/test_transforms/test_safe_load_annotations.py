"""SafeLoadAnnotations: out-of-range label values name the file."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmseg_fdacl.datasets.checks import (LabelValueError,
                                         invalid_label_values)
from mmseg_fdacl.datasets.transforms import SafeLoadAnnotations


def _brute(label, n, ignore):
    values, counts = np.unique(label, return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)
            if not (0 <= v < n or v == ignore)}


@pytest.mark.parametrize('seed', range(4))
def test_invalid_values_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 8, (20, 30)).astype(np.uint8)
    label[rng.random((20, 30)) < 0.2] = 255
    for n in (3, 8, 9):
        assert invalid_label_values(label, n, 255) == _brute(label, n, 255)
    assert invalid_label_values(label, 3, -1) == _brute(label, 3, -1)
    signed = label.astype(np.int64) - 1
    assert invalid_label_values(signed, 8, 254) == _brute(signed, 8, 254)


def _results(path):
    return dict(seg_map_path=path, reduce_zero_label=False, seg_fields=[])


def test_out_of_range_value_names_file_value_and_fix(tmp_path):
    path = str(tmp_path / 'frame_0007_mask.png')
    label = np.zeros((8, 8), np.uint8)
    label[0, :3] = 11
    label[1] = 255
    cv2.imwrite(path, label)
    with pytest.raises(LabelValueError) as err:
        SafeLoadAnnotations(num_classes=11)(_results(path))
    msg = str(err.value)
    assert path in msg and '11 (3 px)' in msg and '0..10' in msg
    assert 'tools/check_dataset.py' in msg
    # valid with 12 classes, and unchecked without num_classes
    assert SafeLoadAnnotations(num_classes=12)(_results(path))[
        'gt_seg_map'].max() == 255
    assert SafeLoadAnnotations()(_results(path)) is not None


def test_ignore_index_and_reduce_zero_label(tmp_path):
    path = str(tmp_path / 'l.png')
    cv2.imwrite(path, np.array([[0, 1, 5]], np.uint8))
    # reduce_zero_label: 0 -> 255, 5 -> 4: valid for 5 classes
    res = dict(_results(path), reduce_zero_label=True)
    SafeLoadAnnotations(num_classes=5, reduce_zero_label=True)(res)
    with pytest.raises(LabelValueError, match='value'):
        SafeLoadAnnotations(num_classes=5)(_results(path))
    cv2.imwrite(path, np.array([[0, 1, 7]], np.uint8))
    SafeLoadAnnotations(num_classes=2, ignore_index=7)(_results(path))


@pytest.mark.parametrize('bad', [0, -1, 2.0, True])
def test_bad_num_classes(bad):
    with pytest.raises(ValueError, match='num_classes'):
        SafeLoadAnnotations(num_classes=bad)
