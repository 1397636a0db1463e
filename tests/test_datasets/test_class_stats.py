"""Class statistics of any dataset: against a brute-force count, resumed
after a killed run, read by rare class sampling, and the command line."""
import glob
import json
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest

from mmseg_fdacl.datasets import UDADataset
from mmseg_fdacl.datasets.class_stats import (
    DatasetLabelCounter, compute_class_stats, count_label_pixels,
    dataset_class_stats, format_class_stats)
from mmseg_fdacl.datasets.rare_class_sampling import RareClassSampler
from tests.helpers import make_cityscapes_tree

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _cityscapes(root, n=5):
    """Two cities (nested layout), labels with a few ignored pixels."""
    make_cityscapes_tree(root, splits=(('train', n), ), city='aachen')
    make_cityscapes_tree(root, splits=(('train', 2), ), city='bremen',
                         seed=3)
    for i, path in enumerate(sorted(glob.glob(
            osp.join(root, 'gtFine/train/*/*_labelTrainIds.png')))):
        label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        label[:i + 1, :] = 255
        cv2.imwrite(path, label)
    return root


def _source_cfg(root):
    return dict(
        type='CityscapesDataset', data_root=root,
        data_prefix=dict(img_path='leftImg8bit/train',
                         seg_map_path='gtFine/train'),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')])


def _brute_force(root):
    per_image, ignored = {}, 0
    for path in sorted(glob.glob(
            osp.join(root, 'gtFine/train/*/*_labelTrainIds.png'))):
        label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        key = osp.relpath(path, osp.join(root, 'gtFine/train'))
        per_image[key] = [int((label == c).sum()) for c in range(19)]
        ignored += int((label == 255).sum())
    return per_image, ignored


def test_counts_match_a_brute_force_count(tmp_path):
    root = _cityscapes(str(tmp_path / 'cs'))
    stats = dataset_class_stats(_source_cfg(root), nproc=2, shard_size=2)
    per_image, ignored = _brute_force(root)
    assert stats['per_image'] == per_image
    assert stats['num_images'] == 7 and stats['ignored_pixels'] == ignored
    assert stats['pixel_counts'] == np.sum(
        list(per_image.values()), axis=0).tolist()
    assert stats['classes'][0] == 'road' and len(stats['classes']) == 19
    with open(osp.join(root, 'class_stats.json')) as f:
        assert json.load(f) == stats
    assert not osp.exists(osp.join(root, 'class_stats.json.parts'))
    table = format_class_stats(stats, min_pixels=10)
    assert 'road' in table and f'{stats["pixel_counts"][0]}' in table
    assert f'{ignored} ignored pixels' in table


def test_count_label_pixels_and_dataset_options(tmp_path):
    label = np.array([[0, 1, 1, 255], [2, 7, 0, 0]], np.uint8)
    counts, ignored, invalid = count_label_pixels(label, 3)
    assert counts.tolist() == [3, 2, 1] and ignored == 1
    assert invalid.tolist() == [7]
    path = str(tmp_path / 'a.png')
    cv2.imwrite(path, label)
    # reduce_zero_label then label_map, as MMSeg's LoadAnnotations
    counter = DatasetLabelCounter(8, reduce_zero_label=True)
    counts, ignored = counter((path, {6: 0}))
    # 0 -> 255 (x3), 1 -> 0 (x2), 2 -> 1, 7 -> 6 -> 0 (label_map)
    assert counts[:2].tolist() == [3, 1] and ignored == 4
    with pytest.raises(ValueError, match=r"a\.png.*\[7\].*neither a class"):
        DatasetLabelCounter(3)((path, None))


class _FailAt:
    """Counts label maps, but raises at one of them (a killed run)."""

    def __init__(self, fail_key=None):
        self.fail_key = fail_key
        self.seen = []
        self.inner = DatasetLabelCounter(19)

    def __call__(self, item):
        if item[0].endswith(self.fail_key or '\0'):
            raise KeyboardInterrupt('killed')
        self.seen.append(osp.basename(item[0]))
        return self.inner(item)


def test_a_killed_run_resumes(tmp_path):
    root = _cityscapes(str(tmp_path / 'cs'))
    per_image, ignored = _brute_force(root)
    keys = sorted(per_image)
    items = [(k, (osp.join(root, 'gtFine/train', k), None)) for k in keys]
    out = str(tmp_path / 'stats.json')
    classes = [f'c{i}' for i in range(19)]
    # Killed at the 6th label map: shards of 2 -> shards 0 and 1 are done.
    killed = _FailAt(keys[5])
    with pytest.raises(KeyboardInterrupt):
        compute_class_stats(items, killed, classes, out, shard_size=2)
    assert not osp.exists(out)
    parts = sorted(os.listdir(out + '.parts'))
    assert parts == ['meta.json', 'part-000000.json', 'part-000001.json']
    # The rerun counts only the shards that were not finished.
    resumed = _FailAt()
    stats = compute_class_stats(items, resumed, classes, out, shard_size=2)
    assert resumed.seen == [osp.basename(k) for k in keys[4:]]
    assert stats['per_image'] == per_image
    assert stats['ignored_pixels'] == ignored
    assert not osp.exists(out + '.parts')
    # Partial results of another image set are not mixed in.
    with pytest.raises(KeyboardInterrupt):
        compute_class_stats(items, _FailAt(keys[5]), classes, out,
                            shard_size=2)
    other = _FailAt()
    stats = compute_class_stats(items[:5], other, classes, out, shard_size=2)
    assert len(other.seen) == 5 and stats['num_images'] == 5
    with pytest.raises(ValueError, match='nproc'):
        compute_class_stats(items, other, classes, out, nproc=0)
    with pytest.raises(ValueError, match='no label maps'):
        compute_class_stats([], other, classes, out)


def _uda(root, rcs):
    target = dict(type='CityscapesDataset', data_root=root,
                  data_prefix=dict(img_path='leftImg8bit/train'),
                  pipeline=[dict(type='LoadImageFromFile'),
                            dict(type='PackSegInputs')])
    return UDADataset(source=_source_cfg(root), target=target,
                      rare_class_sampling=rcs)


def test_rare_class_sampling_reads_them_and_names_a_class_without_images(
        tmp_path):
    # Cityscapes as a source: nested keys (city/name) are found.
    root = _cityscapes(str(tmp_path / 'cs'))
    stats = dataset_class_stats(_source_cfg(root))
    ds = _uda(root, dict(min_pixels=10))
    per_image = np.array(list(stats['per_image'].values()))
    present = per_image.sum(axis=0) > 0
    assert ((ds.rare_class_sampler.probs > 0) == present).all()
    # 32x64 images: DAFormer's 3000 px exceed every class of every image.
    with pytest.raises(ValueError) as err:
        _uda(root, dict())
    msg = str(err.value)
    first = int(np.flatnonzero(present)[0])
    assert f"class '{stats['classes'][first]}' (id {first})" in msg
    assert osp.join(root, 'class_stats.json') in msg
    assert 'min_pixels`=3000' in msg and 'min_pixels_fraction' in msg
    # The size-relative rule fits them: more than 1% of an image's labels.
    ds = _uda(root, dict(min_pixels_fraction=0.01))
    labeled = per_image.sum(axis=1, keepdims=True)
    expect = [np.flatnonzero(per_image[:, c] > 0.01 * labeled[:, 0])
              for c in range(19)]
    for got, want in zip(ds.rare_class_sampler.candidates, expect):
        assert got.tolist() == want.tolist()
    assert ds.rare_class_sampler.min_crop_fraction == 0.005
    item = ds[0]
    assert item['data_samples'].gt_sem_seg.data.shape[-2:] == (32, 64)
    with pytest.raises(ValueError, match='either `min_pixels`.*not both'):
        _uda(root, dict(min_pixels=10, min_pixels_fraction=0.01))
    with pytest.raises(ValueError, match=r'min_pixels_fraction.*\(0, 1\)'):
        _uda(root, dict(min_pixels_fraction=1.5))


def test_fraction_rule_on_hand_counts():
    # image 0: 1000 labeled px, 20 of class 1 (2%); image 1: 10000 px,
    # 150 of class 1 (1.5%); image 2: 10000 px, none.
    per_image = np.array([[980, 20], [9850, 150], [10000, 0]])
    sampler = RareClassSampler(per_image, min_pixels_fraction=0.016)
    assert sampler.candidates[1].tolist() == [0]
    assert sampler.candidates[0].tolist() == [0, 1, 2]
    sampler = RareClassSampler(per_image, min_pixels=100)
    assert sampler.candidates[1].tolist() == [1]
    with pytest.raises(ValueError, match=r"'bike' \(id 1\).*s\.json.*"
                       r"150 pixels.*0\.01500.*'b\.png'"):
        RareClassSampler(per_image, min_pixels_fraction=0.02,
                         classes=['road', 'bike'], stats_file='s.json',
                         image_names=['a.png', 'b.png', 'c.png'])


def test_command_line(tmp_path, monkeypatch, capsys):
    root = _cityscapes(str(tmp_path / 'cs'))
    cfg = str(tmp_path / 'cfg.py')
    with open(cfg, 'w') as f:
        f.write(f'train_dataloader = dict(dataset=dict(type="UDADataset", '
                f'source={_source_cfg(root)!r}, target=None))\n')
    tool = osp.join(REPO, 'tools/dataset_converters/class_stats.py')
    monkeypatch.setattr(sys, 'argv', [tool, cfg, '--nproc', '2',
                                      '--out', str(tmp_path / 'out')])
    runpy.run_path(tool, run_name='__main__')
    out = capsys.readouterr().out
    with open(tmp_path / 'out' / 'class_stats.json') as f:
        stats = json.load(f)
    assert stats['per_image'] == _brute_force(root)[0]
    assert 'road' in out and 'Images > 3000 px' in out
    monkeypatch.setattr(sys, 'argv', [tool, cfg, '--dataset',
                                      'train_dataloader.dataset.target'])
    with pytest.raises(SystemExit, match='not a dataset config'):
        runpy.run_path(tool, run_name='__main__')
