"""ACDC and Dark Zurich read in place from generated trees in their real
layouts: conditions, splits, labels, and the errors for a wrong tree."""
import os
import os.path as osp

import numpy as np
import pytest
from mmseg.registry import DATASETS

from mmseg_fdacl.datasets import ACDCDataset, DarkZurichConditionDataset
from mmseg_fdacl.datasets.checks import DataNotFoundError
from tests.dataset_trees import make_acdc_tree, make_dark_zurich_tree

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]


@pytest.fixture(scope='module')
def acdc(tmp_path_factory):
    return make_acdc_tree(str(tmp_path_factory.mktemp('acdc')))


@pytest.fixture(scope='module')
def dz(tmp_path_factory):
    return make_dark_zurich_tree(str(tmp_path_factory.mktemp('dz')))


def test_acdc_all_conditions_of_a_split(acdc):
    ds = DATASETS.build(dict(type='ACDCDataset', data_root=acdc,
                             split='train', pipeline=PIPELINE))
    assert len(ds) == 8 and ds.metainfo['classes'][0] == 'road'
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert sorted({i['condition'] for i in infos}) == [
        'fog', 'night', 'rain', 'snow']
    for info in infos:
        rel = osp.relpath(info['img_path'], osp.join(acdc, 'rgb_anon'))
        cond, split, seq, name = rel.split(os.sep)
        assert (cond, split) == (info['condition'], 'train')
        assert name.startswith(seq) and name.endswith('_rgb_anon.png')
        assert info['seg_map_path'] == osp.join(
            acdc, 'gt', cond, 'train', seq,
            name.replace('_rgb_anon.png', '_gt_labelTrainIds.png'))
    seg = ds[0]['data_samples'].gt_sem_seg.data
    assert seg.shape[-2:] == (32, 64) and int(seg.max()) < 19
    # pseudo labels mirror the tree below data_prefix.img_path
    assert ds.data_prefix['img_path'] == osp.join(acdc, 'rgb_anon')


def test_acdc_selected_conditions_and_test_split(acdc):
    ds = ACDCDataset(data_root=acdc, split='val', conditions=['night'],
                     pipeline=[])
    assert len(ds) == 1 and ds.get_data_info(0)['condition'] == 'night'
    test = ACDCDataset(data_root=acdc, split='test', pipeline=[])
    assert len(test) == 4 and test.with_labels is False
    assert 'seg_map_path' not in test.get_data_info(0)
    with pytest.raises(ValueError, match=r"conditions.*\['haze'\]"):
        ACDCDataset(data_root=acdc, conditions=['haze'], pipeline=[])
    with pytest.raises(ValueError, match='split.*trainval'):
        ACDCDataset(data_root=acdc, split='trainval', pipeline=[])
    with pytest.raises(FileNotFoundError, match='label maps of split'):
        ACDCDataset(data_root=acdc, split='test', with_labels=True,
                    pipeline=[])


def test_acdc_missing_condition_is_named(tmp_path):
    root = make_acdc_tree(str(tmp_path / 'acdc'), conditions=('fog', ),
                          splits=(('train', 1), ))
    with pytest.raises(DataNotFoundError,
                       match=r"'night'.*rgb_anon/night/train"):
        ACDCDataset(data_root=root, pipeline=[])
    assert len(ACDCDataset(data_root=root, conditions='fog',
                           pipeline=[])) == 1
    with pytest.raises(DataNotFoundError, match='does not exist'):
        ACDCDataset(data_root=str(tmp_path / 'nowhere'), pipeline=[])


def test_dark_zurich_splits(dz):
    train = DarkZurichConditionDataset(data_root=dz, pipeline=[])
    assert len(train) == 4 and train.with_labels is False
    assert all('/rgb_anon/train/night/' in train.get_data_info(i)['img_path']
               for i in range(4))
    every = DarkZurichConditionDataset(
        data_root=dz, conditions=('day', 'twilight', 'night'), pipeline=[])
    assert len(every) == 12
    val = DATASETS.build(dict(type='DarkZurichConditionDataset',
                              data_root=dz, split='val', pipeline=PIPELINE))
    assert len(val) == 2
    info = val.get_data_info(0)
    assert info['seg_map_path'].endswith(
        'gt/val/night/GOPR0356/GOPR0356_frame_000000_gt_labelTrainIds.png')
    assert val[0]['data_samples'].gt_sem_seg.data.shape[-2:] == (32, 64)
    test = DarkZurichConditionDataset(data_root=dz, split='test', pipeline=[])
    assert len(test) == 1 and 'seg_map_path' not in test.get_data_info(0)
    # MMSeg's DarkZurichDataset suffixes
    assert val.img_suffix == '_rgb_anon.png'
    assert val.seg_map_suffix == '_gt_labelTrainIds.png'
    assert np.all([c in val.metainfo['classes'] for c in ('road', 'sky')])
