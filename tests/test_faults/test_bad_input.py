"""Bad input gives an error naming the file/key/value and what to do."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmseg.registry import DATASETS, MODELS, TRANSFORMS

from mmseg_fdacl.datasets.checks import (DataNotFoundError, check_data_dirs,
                                         check_not_empty)
from mmseg_fdacl.datasets.transforms import (SafeLoadAnnotations,
                                             SafeLoadImageFromFile)
from tests.helpers import make_cityscapes_tree, make_gta5_tree


def test_missing_data_root_and_split(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        check_data_dirs('GTA5Dataset', str(tmp_path / 'nope'),
                        dict(img_path='images'))
    assert str(tmp_path / 'nope') in str(err.value)
    assert 'tools/dataset_converters/gta5.py' in str(err.value)
    root = make_cityscapes_tree(str(tmp_path / 'cs'), splits=(('train', 1), ))
    with pytest.raises(DataNotFoundError) as err:
        check_data_dirs('CityscapesDataset', root,
                        dict(img_path='leftImg8bit/val'))
    assert osp.join(root, 'leftImg8bit/val') in str(err.value)
    assert 'cityscapes-dataset.com' in str(err.value)


def test_empty_target_set(tmp_path):
    root = make_cityscapes_tree(str(tmp_path / 'cs'), splits=(('train', 1), ))
    os.makedirs(osp.join(root, 'leftImg8bit', 'empty'))
    with pytest.raises(DataNotFoundError, match='the target set is empty'):
        check_not_empty('CityscapesDataset', 0,
                        osp.join(root, 'leftImg8bit', 'empty'),
                        '_leftImg8bit.png', role='target')


def test_uda_dataset_empty_target_named(tmp_path):
    root = make_cityscapes_tree(str(tmp_path / 'cs'), splits=(('train', 1), ))
    os.makedirs(osp.join(root, 'leftImg8bit', 'empty'))
    gta = make_gta5_tree(str(tmp_path / 'gta'), num=2)
    with pytest.raises(DataNotFoundError,
                       match='target set is empty.*leftImg8bit/empty'):
        DATASETS.build(dict(
            type='UDADataset',
            source=dict(type='GTA5Dataset', data_root=gta, pipeline=[]),
            target=dict(type='CityscapesDataset', data_root=root,
                        data_prefix=dict(img_path='leftImg8bit/empty'),
                        pipeline=[])))


def _corrupt(tmp_path):
    gta = make_gta5_tree(str(tmp_path / 'gta'), num=3)
    bad = osp.join(gta, 'images', '00002.png')
    with open(bad, 'r+b') as f:
        f.truncate(40)  # a PNG header and nothing else
    return gta, bad


def test_corrupt_image_named(tmp_path):
    _, bad = _corrupt(tmp_path)
    with pytest.raises(OSError) as err:
        SafeLoadImageFromFile().transform(dict(img_path=bad))
    assert bad in str(err.value) and "on_error='skip'" in str(err.value)


def test_corrupt_image_skipped_and_counted(tmp_path):
    gta, bad = _corrupt(tmp_path)
    SafeLoadImageFromFile.skipped.clear()
    ds = DATASETS.build(dict(
        type='GTA5Dataset', data_root=gta,
        pipeline=[dict(type='SafeLoadImageFromFile', on_error='skip'),
                  dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')]))
    item = ds[1]  # the corrupt one: another sample is drawn instead
    assert item['data_samples'].img_path != bad
    assert SafeLoadImageFromFile.skipped[bad] >= 1
    with pytest.raises(ValueError, match='on_error'):
        TRANSFORMS.build(dict(type='SafeLoadImageFromFile', on_error='warn'))


def test_image_label_size_mismatch_named(tmp_path):
    gta = make_gta5_tree(str(tmp_path / 'gta'), num=1)
    lab = osp.join(gta, 'labels', '00001_labelTrainIds.png')
    cv2.imwrite(lab, np.zeros((30, 64), np.uint8))
    img = osp.join(gta, 'images', '00001.png')
    results = SafeLoadImageFromFile().transform(dict(img_path=img))
    results.update(seg_map_path=lab, reduce_zero_label=False, seg_fields=[])
    with pytest.raises(ValueError) as err:
        SafeLoadAnnotations().transform(results)
    assert lab in str(err.value) and img in str(err.value)
    assert '30x64' in str(err.value) and '32x64' in str(err.value)


def test_unreadable_label_named(tmp_path):
    gta = make_gta5_tree(str(tmp_path / 'gta'), num=1)
    lab = osp.join(gta, 'labels', '00001_labelTrainIds.png')
    with open(lab, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(OSError, match='cannot read label map .*00001_label'):
        SafeLoadAnnotations().transform(dict(
            seg_map_path=lab, reduce_zero_label=False, seg_fields=[]))


def test_label_ids_outside_class_set_mapped_and_counted(tmp_path):
    from mmseg_fdacl.datasets.gta5 import convert_gta5_labels
    gta = make_gta5_tree(str(tmp_path / 'gta'), num=1, with_train_ids=False)
    raw = osp.join(gta, 'labels', '00001.png')
    ids = cv2.imread(raw, cv2.IMREAD_UNCHANGED)
    ids[:4, :] = 250  # not a Cityscapes label id
    ids[4:6, :] = 3   # a label id outside the 19 evaluated classes
    cv2.imwrite(raw, ids)
    stats = convert_gta5_labels(gta)
    train = cv2.imread(osp.join(gta, 'labels', '00001_labelTrainIds.png'),
                       cv2.IMREAD_UNCHANGED)
    assert (train[:6] == 255).all() and train.max() == 255
    assert set(np.unique(train[6:])) <= set(range(19))
    assert stats['ignored_pixels'] == 6 * 64
    with open(osp.join(gta, 'class_stats.json')) as f:
        assert json.load(f)['ignored_pixels'] == 6 * 64


@pytest.mark.parametrize('build, name', [
    (lambda: __import__('mmseg_fdacl.fda', fromlist=['x']).fda_amplitude_swap(
        torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8), 0.6), 'beta'),
    (lambda: MODELS.build(dict(type='UDADataPreProcessor',
                               fda=dict(beta=-0.1))), 'beta'),
    (lambda: MODELS.build(dict(type='PixelContrastLoss', temperature=0.0)),
     'temperature'),
    (lambda: MODELS.build(dict(type='EntropyLoss', loss_weight=-1.0)),
     'loss_weight'),
])
def test_out_of_range_settings_refused(build, name):
    with pytest.raises(ValueError, match=name):
        build()


def test_out_of_range_lambda_and_threshold_refused(tmp_path):
    from tests.helpers import tiny_deeplabv2_cfg
    cfg = tiny_deeplabv2_cfg()
    cfg.update(type='UDAEncoderDecoder', lambda_ent=-0.5)
    with pytest.raises(ValueError, match='lambda_ent'):
        MODELS.build(cfg)
    from mmseg_fdacl.apis import generate_pseudo_labels
    with pytest.raises(ValueError, match='threshold must be in'):
        generate_pseudo_labels(
            tiny_deeplabv2_cfg(), [__file__], dict(type='CityscapesDataset'),
            str(tmp_path), threshold=1.5)
