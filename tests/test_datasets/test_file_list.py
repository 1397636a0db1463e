"""build_file_list / image_paths: a dataset config's files, no pipeline."""
import os

import cv2
import numpy as np

from mmseg_fdacl.datasets.file_list import build_file_list, image_paths


def _cityscapes(root, num=3):
    img_dir = root / 'leftImg8bit' / 'train' / 'city'
    os.makedirs(img_dir)
    for i in range(num):
        cv2.imwrite(str(img_dir / f'city_{i:06d}_000019_leftImg8bit.png'),
                    np.zeros((4, 8, 3), np.uint8))
    return dict(type='CityscapesDataset', data_root=str(root),
                data_prefix=dict(img_path='leftImg8bit/train'),
                pipeline=[dict(type='LoadImageFromFile')])


def test_file_list_skips_serialization_and_pipeline(tmp_path):
    """The list is only read here: no pipeline, and no serialization (which
    runs a full gc.collect per build; the pseudo-label processes each pay
    it)."""
    import mmseg_fdacl  # noqa: F401
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = _cityscapes(tmp_path)
    ds = build_file_list(cfg)
    assert ds.serialize_data is False
    assert cfg['pipeline'] and 'serialize_data' not in cfg  # not changed
    paths = image_paths(cfg)
    assert [os.path.basename(p) for p in paths] == [
        f'city_{i:06d}_000019_leftImg8bit.png' for i in range(3)]
    # an explicit choice is kept
    assert build_file_list(dict(cfg, serialize_data=True)).serialize_data
