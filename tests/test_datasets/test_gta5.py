"""GTA5Dataset on a generated GTA5-layout tree."""
import numpy as np
import pytest
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from mmseg_fdacl.datasets import (GTA5_ID_TO_TRAINID, GTA5Dataset,
                                  convert_label_ids)
from tests.helpers import REFERENCE_ID_TO_TRAINID, make_gta5_tree


def test_metainfo_is_cityscapes():
    assert GTA5Dataset.METAINFO['classes'] == \
        CityscapesDataset.METAINFO['classes']
    assert GTA5Dataset.METAINFO['palette'] == \
        CityscapesDataset.METAINFO['palette']
    assert len(GTA5Dataset.METAINFO['classes']) == 19


def test_id_map_matches_cityscapes_definition():
    # Independent copy of the Cityscapes label definition (tests.helpers).
    assert GTA5_ID_TO_TRAINID == REFERENCE_ID_TO_TRAINID


def test_builds_from_registry_and_loads_samples(tmp_path):
    root = make_gta5_tree(str(tmp_path / 'gta5'), num=3, size=(32, 64))
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    ds = DATASETS.build(
        dict(type='GTA5Dataset', data_root=root, pipeline=pipeline))
    assert isinstance(ds, GTA5Dataset)
    # Only images/*.png are samples; label ids and train ids both live in
    # labels/ and must not be confused.
    assert len(ds) == 3
    info = ds.get_data_info(0)
    assert info['img_path'].endswith('images/00001.png')
    assert info['seg_map_path'].endswith('labels/00001_labelTrainIds.png')
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (3, 32, 64)
    seg = sample['data_samples'].gt_sem_seg.data.numpy()[0]
    # The stored train ids equal the converted label ids.
    from PIL import Image
    ids = np.asarray(Image.open(f'{root}/labels/00001.png'))
    np.testing.assert_array_equal(seg, convert_label_ids(ids))
    assert seg.max() < 19


def test_missing_train_ids_says_to_run_converter(tmp_path):
    root = make_gta5_tree(str(tmp_path / 'gta5'), num=2, with_train_ids=False)
    with pytest.raises(FileNotFoundError, match='dataset_converters/gta5.py'):
        GTA5Dataset(data_root=root, pipeline=[])


def test_no_images_names_folder(tmp_path):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'labels').mkdir()
    with pytest.raises(FileNotFoundError, match='images'):
        GTA5Dataset(data_root=str(tmp_path), pipeline=[])


def test_convert_label_ids_dtypes():
    ids = np.array([[7, 33, 0, 34], [-1, 255, 300, 26]], dtype=np.int32)
    out = convert_label_ids(ids)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out,
                                  [[0, 18, 255, 255], [255, 255, 255, 13]])
    with pytest.raises(TypeError, match='integer'):
        convert_label_ids(ids.astype(np.float32))


def test_gta5_dataset_names_missing_root_and_split(tmp_path):
    from mmseg_fdacl.datasets.checks import DataNotFoundError
    with pytest.raises(DataNotFoundError, match='nowhere') as err:
        GTA5Dataset(data_root=str(tmp_path / 'nowhere'), pipeline=[])
    assert 'tools/dataset_converters/gta5.py' in str(err.value)
    root = make_gta5_tree(str(tmp_path / 'gta'), num=1)
    with pytest.raises(DataNotFoundError, match='img_path'):
        GTA5Dataset(
            data_root=root,
            data_prefix=dict(img_path='imgs', seg_map_path='labels'),
            pipeline=[])
