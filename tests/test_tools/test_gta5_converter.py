"""tools/dataset_converters/gta5.py and the library function behind it."""
import json
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
from PIL import Image

from mmseg_fdacl.datasets.gta5 import convert_gta5_labels, convert_label_ids
from tests.helpers import REFERENCE_ID_TO_TRAINID

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Independent expectation: the Cityscapes definition, everything else 255.
EXPECTED = {i: REFERENCE_ID_TO_TRAINID.get(i, 255) for i in range(256)}


def _all_ids_image() -> np.ndarray:
    """A 16x16 map holding every uint8 id exactly once."""
    return np.arange(256, dtype=np.uint8).reshape(16, 16)


def test_every_id_maps_exactly():
    ids = _all_ids_image()
    out = convert_label_ids(ids)
    for label_id in range(256):
        assert out.ravel()[label_id] == EXPECTED[label_id], label_id
    assert set(np.unique(out)) == set(range(19)) | {255}


def _write_tree(root):
    labels = root / 'labels'
    labels.mkdir(parents=True)
    (root / 'images').mkdir()
    # A palette PNG, as GTA5 ships them: the indices are the label ids.
    pal = Image.fromarray(_all_ids_image(), mode='P')
    pal.putpalette(
        list(np.random.default_rng(0).integers(0, 256, 768, dtype=np.uint8)))
    pal.save(labels / '00001.png')
    # A plain grayscale PNG with a few known ids.
    gray = np.zeros((4, 8), np.uint8)
    gray[0, :] = 7  # road
    gray[1, :4] = 26  # car
    gray[2, :] = 3  # out of roi -> ignore
    Image.fromarray(gray).save(labels / '00002.png')
    return gray


def test_converter_writes_train_ids_and_stats(tmp_path):
    gray = _write_tree(tmp_path)
    stats = convert_gta5_labels(str(tmp_path), nproc=2)

    out1 = np.asarray(Image.open(tmp_path / 'labels/00001_labelTrainIds.png'))
    assert out1.dtype == np.uint8 and out1.shape == (16, 16)
    np.testing.assert_array_equal(out1.ravel(),
                                  [EXPECTED[i] for i in range(256)])
    out2 = np.asarray(Image.open(tmp_path / 'labels/00002_labelTrainIds.png'))
    np.testing.assert_array_equal(out2, convert_label_ids(gray))

    with open(tmp_path / 'class_stats.json') as f:
        saved = json.load(f)
    assert saved == stats
    assert set(saved) == {
        'classes', 'num_images', 'pixel_counts', 'ignored_pixels', 'per_image'
    }
    assert len(saved['classes']) == 19 and saved['classes'][0] == 'road'
    assert saved['num_images'] == 2
    assert set(saved['per_image']) == {'00001.png', '00002.png'}
    # Image 1 holds each of the 19 kept ids once; 256 - 19 ids are ignored.
    assert saved['per_image']['00001.png'] == [1] * 19
    img2 = [0] * 19
    img2[0], img2[13] = 8, 4
    assert saved['per_image']['00002.png'] == img2
    assert saved['pixel_counts'] == [a + b for a, b in zip([1] * 19, img2)]
    assert saved['ignored_pixels'] == (256 - 19) + (32 - 12)


def test_converter_is_idempotent_and_skips_outputs(tmp_path):
    _write_tree(tmp_path)
    first = convert_gta5_labels(str(tmp_path))
    second = convert_gta5_labels(str(tmp_path))
    assert first == second and second['num_images'] == 2


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match='labels'):
        convert_gta5_labels(str(tmp_path))
    with pytest.raises(ValueError, match='nproc'):
        convert_gta5_labels(str(tmp_path), nproc=0)
    (tmp_path / 'labels').mkdir()
    Image.fromarray(np.zeros((4, 4, 3),
                             np.uint8)).save(tmp_path / 'labels/00001.png')
    with pytest.raises(ValueError, match='00001.png.*single-channel'):
        convert_gta5_labels(str(tmp_path))


def test_command_line(tmp_path, monkeypatch, capsys):
    # In-process (runpy) rather than a subprocess: the tool is a thin
    # argparse layer and a subprocess would cost ~10 s of imports.
    _write_tree(tmp_path)
    tool = osp.join(REPO, 'tools/dataset_converters/gta5.py')
    monkeypatch.setattr(sys, 'argv', [tool, str(tmp_path), '--nproc', '1'])
    runpy.run_path(tool, run_name='__main__')
    out = capsys.readouterr().out
    assert 'Pixels mapped to 255 (ignored): 257' in out
    assert (tmp_path / 'class_stats.json').is_file()
    monkeypatch.setattr(sys, 'argv', [tool, str(tmp_path), '--nproc', '0'])
    with pytest.raises(SystemExit, match='--nproc'):
        runpy.run_path(tool, run_name='__main__')
