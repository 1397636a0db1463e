"""tools/check_dataset.py and mmseg_fdacl.datasets.dataset_check: each fault
planted in generated folders is found and named with its file."""
import glob
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmseg_fdacl.datasets.dataset_check import (check_config,
                                                config_datasets,
                                                format_report)
from mmseg_fdacl.demo.custom_folders import (EXAMPLE_CLASSES,
                                             EXAMPLE_PALETTE,
                                             write_example_folders)
from mmseg_fdacl.utils import pseudo_label_path

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
META = dict(classes=list(EXAMPLE_CLASSES),
            palette=[list(c) for c in EXAMPLE_PALETTE])


def _ds(root, img, seg=None):
    prefix = dict(img_path=img)
    if seg:
        prefix['seg_map_path'] = seg
    return dict(type='CustomSegDataset', metainfo=META, data_root=root,
                img_suffix='.jpg', seg_map_suffix='_mask.png',
                data_prefix=prefix, pipeline=[])


def make_cfg(root, pseudo_label_dir=None):
    val = _ds(root, 'target/val/images', 'target/val/labels')
    return Config(dict(
        custom_imports=dict(imports=['mmseg_fdacl'],
                            allow_failed_imports=False),
        default_scope='mmseg',
        train_dataloader=dict(dataset=dict(
            type='UDADataset',
            source=_ds(root, 'source/images', 'source/labels'),
            target=_ds(root, 'target/train'),
            pseudo_label_dir=pseudo_label_dir)),
        val_dataloader=dict(dataset=val),
        test_dataloader=dict(dataset=val)))


@pytest.fixture
def folders(tmp_path):
    root = str(tmp_path / 'data')
    write_example_folders(root, num_source=4, num_target=3, num_val=2,
                          size=(32, 48))
    return root


def _source_label(root, i=1):
    return osp.join(root, 'source', 'labels', f'coast_{i:03d}_mask.png')


def _faults(cfg, **kwargs):
    return [f for r in check_config(cfg, **kwargs) for f in r.faults]


def test_clean_folders_have_no_fault_and_exact_counts(folders):
    reports = check_config(make_cfg(folders))
    assert [r.role for r in reports] == ['train/source', 'train/target',
                                         'val+test']
    assert not [f for r in reports for f in r.faults]
    src = reports[0]
    brute = np.zeros(5, np.int64)
    for path in glob.glob(osp.join(folders, 'source/labels/*_mask.png')):
        label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        brute += np.bincount(label.ravel(), minlength=5)[:5]
    assert src.pixel_counts.tolist() == brute.tolist()
    assert src.num_samples == 4 and src.labelled
    assert reports[1].num_samples == 3 and not reports[1].labelled
    text = format_report(reports)
    assert 'No fault found.' in text and 'boat' in text


def test_truncated_image_is_named(folders):
    bad = osp.join(folders, 'target', 'train', 'dusk_001.jpg')
    data = open(bad, 'rb').read()
    with open(bad, 'wb') as f:
        f.write(data[:len(data) // 2])
    faults = _faults(make_cfg(folders))
    assert [(f.role, f.kind, f.path) for f in faults] == [
        ('train/target', 'unreadable image', bad)]


@pytest.mark.parametrize('how', ['garbage', 'truncated'])
def test_unreadable_label_is_named(folders, how):
    bad = _source_label(folders)
    data = open(bad, 'rb').read()
    with open(bad, 'wb') as f:
        f.write(b'not a png' if how == 'garbage' else data[:len(data) // 2])
    faults = _faults(make_cfg(folders))
    assert [(f.kind, f.path) for f in faults] == [('unreadable label', bad)]


def test_size_mismatch_is_named(folders):
    bad = _source_label(folders, 2)
    cv2.imwrite(bad, np.zeros((30, 48), np.uint8))
    faults = _faults(make_cfg(folders))
    assert [(f.kind, f.path) for f in faults] == [('size mismatch', bad)]
    assert '30x48' in faults[0].message and '32x48' in faults[0].message


def test_out_of_range_value_is_named(folders):
    bad = osp.join(folders, 'target', 'val', 'labels', 'dusk_000_mask.png')
    label = cv2.imread(bad, cv2.IMREAD_UNCHANGED)
    label[:2, :3] = 5       # a sixth class in a five-class dataset
    label[3, :4] = 255      # ignored: fine
    cv2.imwrite(bad, label)
    faults = _faults(make_cfg(folders))
    assert [(f.role, f.kind, f.path) for f in faults] == [
        ('val+test', 'label values', bad)]
    assert 'value(s) 5 (6 px)' in faults[0].message


def test_colour_label_is_named(folders):
    bad = _source_label(folders, 3)
    cv2.imwrite(bad, np.zeros((32, 48, 3), np.uint8))
    faults = _faults(make_cfg(folders))
    assert [(f.kind, f.path) for f in faults] == [('label channels', bad)]


def test_empty_split_is_named(folders):
    for path in glob.glob(osp.join(folders, 'target/val/images/*')):
        os.remove(path)
    faults = _faults(make_cfg(folders))
    assert [(f.role, f.kind) for f in faults] == [('val+test', 'empty split')]
    assert 'target/val/images' in faults[0].path + faults[0].message


def test_missing_pseudo_labels_are_named(folders, tmp_path):
    pl = str(tmp_path / 'pl')
    root = osp.join(folders, 'target', 'train')
    imgs = sorted(glob.glob(osp.join(root, '*.jpg')))
    for img in imgs:
        path = pseudo_label_path(img, root, pl)
        os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(path, np.zeros((32, 48), np.uint8))
    missing = pseudo_label_path(imgs[1], root, pl)
    os.remove(missing)
    faults = _faults(make_cfg(folders, pseudo_label_dir=pl))
    assert [(f.role, f.kind, f.path) for f in faults] == [
        ('train/target', 'missing pseudo label', missing)]
    # the folder itself missing, given on the command line
    faults = _faults(make_cfg(folders), pseudo_label_dir=str(tmp_path / 'x'))
    assert [(f.kind, f.path) for f in faults] == [
        ('missing pseudo label', str(tmp_path / 'x'))]


def test_parallel_equals_serial(folders):
    cv2.imwrite(_source_label(folders), np.full((32, 48), 7, np.uint8))
    one = check_config(make_cfg(folders))
    two = check_config(make_cfg(folders), nproc=2)
    assert [f.path for r in one for f in r.faults] == [
        f.path for r in two for f in r.faults]
    assert one[0].pixel_counts.tolist() == two[0].pixel_counts.tolist()


def test_config_datasets_unwraps_and_keeps_distinct_test():
    cfg = make_cfg('r')
    cfg.test_dataloader = dict(dataset=_ds('r', 'test'))
    cfg.train_dataloader = dict(dataset=dict(
        type='ConcatDataset', datasets=[_ds('a', 'x'), dict(
            type='RepeatDataset', times=2, dataset=_ds('b', 'y'))]))
    assert [r for r, _, _ in config_datasets(cfg)] == [
        'train/0', 'train/1', 'val', 'test']


def test_cli_exit_status_and_file_name(folders, tmp_path):
    cfg = make_cfg(folders)
    path = str(tmp_path / 'cfg.py')
    cfg.dump(path)
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'check_dataset.py'), path]
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    ok = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr[-2000:]
    bad = _source_label(folders)
    cv2.imwrite(bad, np.full((32, 48), 9, np.uint8))
    out = str(tmp_path / 'report.json')
    res = subprocess.run(cmd + ['--out', out], capture_output=True,
                         text=True, env=env)
    assert res.returncode == 1
    assert bad in res.stdout and '1 fault(s)' in res.stdout
    assert bad in open(out).read()
