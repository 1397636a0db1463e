"""Tests of the embedded two-domain street-scene generator."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from PIL import Image

from mmseg_fdacl.datasets.gta5 import convert_gta5_labels, convert_label_ids
from mmseg_fdacl.datasets.label_ids import IGNORE_INDEX
from mmseg_fdacl.demo.synthetic import (CLASSES, format_class_table,
                                        generate_uda_data, image_rng,
                                        render_scene, trainid_to_labelid)

SIZE = (48, 96)


def _read(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def _tree_bytes(root):
    files = sorted(glob.glob(osp.join(root, '**', '*.png'), recursive=True))
    return {osp.relpath(f, root): open(f, 'rb').read() for f in files}


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    stats = generate_uda_data(
        root, num_source=5, num_target_train=4, num_target_val=3, size=SIZE,
        seed=3)
    return root, stats


def test_render_is_deterministic_and_domains_share_the_scene():
    for domain in ('source', 'target'):
        a = render_scene(image_rng(0, 'source', 'source', 7), SIZE, domain)
        b = render_scene(image_rng(0, 'source', 'source', 7), SIZE, domain)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        assert a[0].shape == SIZE + (3, ) and a[0].dtype == np.uint8
        assert a[1].shape == SIZE and a[1].dtype == np.uint8
    # The same generator state gives the same scene in both domains: only
    # the appearance differs, globally (a warm color cast) and locally.
    src, lab_s = render_scene(image_rng(0, 'source', 'source', 7), SIZE,
                              'source')
    trg, lab_t = render_scene(image_rng(0, 'source', 'source', 7), SIZE,
                              'target')
    np.testing.assert_array_equal(lab_s, lab_t)
    assert np.abs(src.astype(float) - trg.astype(float)).mean() > 20
    blue_over_red = [im[..., 2].mean() / im[..., 0].mean()
                     for im in (src, trg)]
    assert blue_over_red[1] < 0.9 * blue_over_red[0]
    other = render_scene(image_rng(1, 'source', 'source', 7), SIZE, 'source')
    assert not np.array_equal(other[1], lab_s)


def test_generate_is_deterministic_across_processes(data, tmp_path):
    root, _ = data
    again = str(tmp_path / 'again')
    generate_uda_data(
        again, num_source=5, num_target_train=4, num_target_val=3, size=SIZE,
        seed=3, nproc=2)
    assert _tree_bytes(root) == _tree_bytes(again)
    other = str(tmp_path / 'other')
    generate_uda_data(
        other, num_source=2, num_target_train=0, num_target_val=0, size=SIZE,
        seed=4)
    assert _tree_bytes(other)['gta5/images/00001.png'] != _tree_bytes(
        root)['gta5/images/00001.png']


def test_layouts_and_encodings(data):
    root, stats = data
    gta = osp.join(root, 'gta5')
    assert stats['source_root'] == gta
    assert len(glob.glob(osp.join(gta, 'images', '*.png'))) == 5
    # A palette PNG, as GTA5's labels: the pixel values are label ids.
    pil = Image.open(osp.join(gta, 'labels', '00001.png'))
    assert pil.mode == 'P'
    ids = np.array(pil)
    assert ids.shape == SIZE and ids.dtype == np.uint8
    # Label ids, not train ids: only Cityscapes ids of the 19 classes, plus
    # the ego vehicle (id 1).
    assert set(np.unique(ids)) <= {1, 7, 8, 11, 12, 13, 17, 19, 20, 21, 22,
                                   23, 24, 25, 26, 27, 28, 31, 32, 33}
    assert not glob.glob(osp.join(gta, 'labels', '*_labelTrainIds.png'))

    cs = stats['target_root']
    for split, num in (('train', 4), ('val', 3)):
        imgs = sorted(
            glob.glob(osp.join(cs, 'leftImg8bit', split, '*', '*.png')))
        assert len(imgs) == num
        for img in imgs:
            stem = osp.basename(img)[:-len('_leftImg8bit.png')]
            city = osp.basename(osp.dirname(img))
            assert stem.startswith(city + '_') and len(stem.split('_')) == 3
            gt = osp.join(cs, 'gtFine', split, city, stem + '_gtFine_')
            train_ids = _read(gt + 'labelTrainIds.png')
            np.testing.assert_array_equal(
                train_ids, convert_label_ids(_read(gt + 'labelIds.png')))
            assert _read(img).shape == SIZE + (3, )
    # Round trip of the encoding.
    t = np.array([[0, 5, 18, IGNORE_INDEX]], np.uint8)
    np.testing.assert_array_equal(convert_label_ids(trainid_to_labelid(t)), t)
    with open(osp.join(root, 'synthetic_stats.json')) as f:
        assert json.load(f)['target_val']['num_images'] == 3


def test_readable_by_gta5_and_cityscapes_datasets(data, tmp_path):
    from mmseg.registry import DATASETS
    root, _ = data
    gta = osp.join(root, 'gta5')
    convert_gta5_labels(gta)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    src = DATASETS.build(
        dict(type='GTA5Dataset', data_root=gta, pipeline=pipeline))
    assert len(src) == 5
    item = src[0]
    assert tuple(item['inputs'].shape) == (3, ) + SIZE
    seg = item['data_samples'].gt_sem_seg.data
    assert seg.max() <= 255 and seg[seg != 255].max() < 19
    for split, num in (('train', 4), ('val', 3)):
        trg = DATASETS.build(
            dict(
                type='CityscapesDataset',
                data_root=osp.join(root, 'cityscapes'),
                data_prefix=dict(
                    img_path=f'leftImg8bit/{split}',
                    seg_map_path=f'gtFine/{split}'),
                pipeline=pipeline))
        assert len(trg) == num
        assert tuple(trg[0]['inputs'].shape) == (3, ) + SIZE


def test_label_statistics_realistic():
    counts = np.zeros(256, np.int64)
    present = np.zeros(256, np.int64)
    num = 120
    for i in range(num):
        _, lab = render_scene(image_rng(0, 'source', 'source', i), (48, 96),
                              'source')
        c = np.bincount(lab.ravel(), minlength=256)
        counts += c
        present += c > 0
    freq = counts[:19] / counts[:19].sum()
    by_name = dict(zip(CLASSES, freq))
    assert (counts[:19] > 0).all(), [
        n for n, c in zip(CLASSES, counts) if c == 0
    ]
    dominant = ('road', 'building', 'vegetation', 'sky')
    rare = ('rider', 'train', 'motorcycle', 'bicycle')
    assert sum(by_name[n] for n in dominant) > 0.6
    assert by_name['road'] == freq.max()
    for n in rare:
        assert by_name[n] < 0.01, (n, by_name[n])
        assert by_name[n] < min(by_name[d] for d in dominant) / 10
    assert present[CLASSES.index('train')] < num / 5
    assert present[CLASSES.index('road')] == num
    table = format_class_table(
        dict(source=dict(
            num_images=num, frequencies=freq.tolist())))
    assert 'bicycle' in table and 'road' in table


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError, match='domain'):
        render_scene(np.random.default_rng(0), SIZE, 'photo')
    with pytest.raises(ValueError, match='size'):
        render_scene(np.random.default_rng(0), (8, 64), 'source')
    with pytest.raises(ValueError, match='num_source'):
        generate_uda_data(
            str(tmp_path), num_source=-1, num_target_train=0,
            num_target_val=0)
    with pytest.raises(ValueError, match='nproc'):
        generate_uda_data(
            str(tmp_path), num_source=1, num_target_train=0,
            num_target_val=0, nproc=0)
