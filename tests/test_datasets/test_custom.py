"""CustomSegDataset: any folder set by its metainfo; bad metainfo and
missing or empty folders are errors that name the key or the folder."""
import os

import pytest
from mmseg.registry import DATASETS

from mmseg_fdacl.datasets import CustomSegDataset
from mmseg_fdacl.datasets.checks import DataNotFoundError
from mmseg_fdacl.demo.custom_folders import (EXAMPLE_CLASSES,
                                             EXAMPLE_PALETTE,
                                             write_example_folders)

META = dict(classes=EXAMPLE_CLASSES, palette=[list(c) for c in
                                              EXAMPLE_PALETTE])


def _ds(root, **kwargs):
    args = dict(type='CustomSegDataset', metainfo=META, data_root=root,
                data_prefix=dict(img_path='source/images',
                                 seg_map_path='source/labels'),
                img_suffix='.jpg', seg_map_suffix='_mask.png')
    args.update(kwargs)
    return DATASETS.build(args)


def test_lists_pairs_with_own_suffixes_and_metainfo(tmp_path):
    write_example_folders(str(tmp_path), num_source=3, num_target=2,
                          num_val=1, size=(32, 48))
    ds = _ds(str(tmp_path))
    assert isinstance(ds, CustomSegDataset) and len(ds) == 3
    info = ds.get_data_info(1)
    assert info['img_path'].endswith('source/images/coast_001.jpg')
    assert info['seg_map_path'].endswith('source/labels/coast_001_mask.png')
    assert ds.metainfo['classes'] == EXAMPLE_CLASSES
    assert ds.metainfo['palette'] == META['palette']
    target = _ds(str(tmp_path), data_prefix=dict(img_path='target/train'))
    assert len(target) == 2 and 'seg_map_path' not in target.get_data_info(0)


@pytest.mark.parametrize('metainfo, match', [
    (None, 'metainfo'),
    (dict(classes=EXAMPLE_CLASSES), 'palette'),
    (dict(classes=EXAMPLE_CLASSES, palette=META['palette'][:2]),
     '2 colours for 5 classes'),
    (dict(classes=EXAMPLE_CLASSES, palette=[[0, 0]] * 5), "'sky'"),
    (dict(classes='sky', palette=[[0, 0, 0]]), 'list of'),
])
def test_bad_metainfo_names_the_key(tmp_path, metainfo, match):
    with pytest.raises(ValueError, match=match):
        _ds(str(tmp_path), metainfo=metainfo)


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(DataNotFoundError, match='source/images'):
        _ds(str(tmp_path))
    os.makedirs(tmp_path / 'source' / 'images')
    os.makedirs(tmp_path / 'source' / 'labels')
    with pytest.raises(DataNotFoundError, match="'.jpg'"):
        _ds(str(tmp_path))
