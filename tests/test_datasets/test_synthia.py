"""SYNTHIA: the converter (channel order, id map, statistics, resume) and the
dataset on a generated tree in the real layout (16-bit GT/LABELS)."""
import json
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest
from mmseg.registry import DATASETS

from mmseg_fdacl.datasets import SYNTHIA_ID_TO_TRAINID, SynthiaDataset
from mmseg_fdacl.datasets.synthia import (convert_synthia_ids,
                                          convert_synthia_labels,
                                          read_synthia_label)
from tests.dataset_trees import REFERENCE_SYNTHIA_TO_TRAINID, \
    make_synthia_tree

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _expected(ids):
    lut = {i: REFERENCE_SYNTHIA_TO_TRAINID.get(i, 255) for i in range(256)}
    return np.vectorize(lut.get)(ids).astype(np.uint8)


def test_id_map_is_the_published_one():
    assert SYNTHIA_ID_TO_TRAINID == REFERENCE_SYNTHIA_TO_TRAINID
    ids = np.arange(300).reshape(10, 30)
    np.testing.assert_array_equal(convert_synthia_ids(ids),
                                  _expected(np.minimum(ids, 255)))
    # terrain (9), truck (14), train (16) are never produced
    assert not {9, 14, 16} & set(np.unique(convert_synthia_ids(ids)))


def test_class_id_is_the_first_channel(tmp_path):
    # OpenCV's BGR order: R (index 2) is SYNTHIA's class channel.
    bgr = np.zeros((2, 3, 3), np.uint16)
    bgr[..., 2] = 3      # road
    bgr[..., 1] = 8      # an instance id that would read as car
    bgr[..., 0] = 10     # would read as person
    path = str(tmp_path / 'a.png')
    cv2.imwrite(path, bgr)
    assert cv2.imread(path, cv2.IMREAD_UNCHANGED).dtype == np.uint16
    assert (read_synthia_label(path) == 3).all()
    cv2.imwrite(path, np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match=r'a\.png.*first \(R\) channel'):
        read_synthia_label(path)


def test_converter_writes_train_ids_and_stats(tmp_path):
    root = make_synthia_tree(str(tmp_path / 'synthia'), num=3)
    stats = convert_synthia_labels(root, nproc=2)
    counts = np.zeros(19, np.int64)
    ignored = 0
    for i in range(3):
        name = f'{i:07d}.png'
        raw = cv2.imread(osp.join(root, 'GT/LABELS', name),
                         cv2.IMREAD_UNCHANGED)[..., 2]
        out = cv2.imread(osp.join(root, 'GT/LABELS',
                                  f'{i:07d}_labelTrainIds.png'),
                         cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(out, _expected(raw))
        row = [int((out == c).sum()) for c in range(19)]
        assert stats['per_image'][name] == row
        counts += row
        ignored += int((out == 255).sum())
    assert stats['pixel_counts'] == counts.tolist()
    assert stats['ignored_pixels'] == ignored > 0
    assert stats['pixel_counts'][9] == stats['pixel_counts'][14] == 0
    with open(osp.join(root, 'class_stats.json')) as f:
        assert json.load(f) == stats


def test_dataset_reads_converted_labels(tmp_path):
    root = make_synthia_tree(str(tmp_path / 'synthia'), num=2)
    with pytest.raises(FileNotFoundError, match='dataset_converters/synthia'):
        SynthiaDataset(data_root=root, pipeline=[])
    convert_synthia_labels(root)
    ds = DATASETS.build(dict(
        type='SynthiaDataset', data_root=root,
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations'), dict(type='PackSegInputs')]))
    assert len(ds) == 2 and len(ds.metainfo['classes']) == 19
    info = ds.get_data_info(1)
    assert info['img_path'].endswith('RGB/0000001.png')
    assert info['seg_map_path'].endswith(
        'GT/LABELS/0000001_labelTrainIds.png')
    seg = ds[1]['data_samples'].gt_sem_seg.data.numpy()[0]
    raw = cv2.imread(osp.join(root, 'GT/LABELS/0000001.png'),
                     cv2.IMREAD_UNCHANGED)[..., 2]
    np.testing.assert_array_equal(seg, _expected(raw))


def test_command_line_and_resume(tmp_path, monkeypatch, capsys):
    root = make_synthia_tree(str(tmp_path / 'synthia'), num=2)
    # A partial run of another image set is discarded, not mixed in.
    (tmp_path / 'synthia' / 'class_stats.json.parts').mkdir()
    (tmp_path / 'synthia' / 'class_stats.json.parts' / 'meta.json').write_text(
        '{"classes": []}')
    tool = osp.join(REPO, 'tools/dataset_converters/synthia.py')
    monkeypatch.setattr(sys, 'argv', [tool, root, '--nproc', '1'])
    runpy.run_path(tool, run_name='__main__')
    out = capsys.readouterr().out
    assert 'Converted 2 label maps' in out and 'starting over' in out
    assert 'sidewalk' in out
    assert osp.isfile(osp.join(root, 'class_stats.json'))
