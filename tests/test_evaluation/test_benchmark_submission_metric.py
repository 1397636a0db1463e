"""Server-format predictions for ACDC and Dark Zurich."""
import os

import numpy as np
import pytest
import torch
from mmseg.datasets import CityscapesDataset
from PIL import Image

from mmseg_fdacl.datasets.label_ids import TRAIN_ID_TO_LABEL_ID
from mmseg_fdacl.evaluation import BenchmarkSubmissionMetric

META = dict(classes=CityscapesDataset.METAINFO['classes'])


def _sample(pred, name, logits=None, label=None):
    s = dict(pred_sem_seg=dict(data=torch.as_tensor(pred)[None]),
             img_path=f'/data/acdc/rgb_anon/fog/test/GOPR0475/{name}')
    if logits is not None:
        s['seg_logits'] = dict(data=logits)
    if label is not None:
        s['gt_sem_seg'] = dict(data=torch.as_tensor(label)[None])
    return s


def test_acdc_train_ids_named_after_the_image(tmp_path):
    pred = np.arange(24).reshape(4, 6) % 19
    metric = BenchmarkSubmissionMetric(server='acdc',
                                       output_dir=str(tmp_path))
    metric.dataset_meta = META
    metric.process({}, [_sample(pred, 'GOPR0475_frame_000041_rgb_anon.png')])
    assert metric.evaluate(1) == {}
    assert os.listdir(tmp_path) == ['GOPR0475_frame_000041_rgb_anon.png']
    out = np.asarray(Image.open(tmp_path / os.listdir(tmp_path)[0]))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, pred)


def test_label_ids_option(tmp_path):
    pred = np.array([[0, 13, 18]])
    metric = BenchmarkSubmissionMetric(server='acdc', output_dir=str(tmp_path),
                                       to_label_id=True)
    metric.dataset_meta = META
    metric.process({}, [_sample(pred, 'a_rgb_anon.png')])
    out = np.asarray(Image.open(tmp_path / 'a_rgb_anon.png'))
    assert out.tolist() == [[7, 26, 33]]
    assert [TRAIN_ID_TO_LABEL_ID[i] for i in (0, 13, 18)] == [7, 26, 33]


def test_dark_zurich_three_folders_and_confidence(tmp_path):
    logits = torch.zeros(19, 2, 3)
    logits[4, 0, 0] = 10.0  # confident at one pixel, uniform elsewhere
    pred = logits.argmax(0).numpy()
    metric = BenchmarkSubmissionMetric(server='dark_zurich',
                                       output_dir=str(tmp_path))
    metric.dataset_meta = META
    metric.process({}, [_sample(pred, 'GOPR0364_frame_000001_rgb_anon.png',
                                logits)])
    assert sorted(os.listdir(tmp_path)) == [
        'confidence', 'labelTrainIds', 'labelTrainIds_invalid']
    name = 'GOPR0364_frame_000001_rgb_anon.png'
    for folder in ('labelTrainIds', 'labelTrainIds_invalid'):
        np.testing.assert_array_equal(
            np.asarray(Image.open(tmp_path / folder / name)), pred)
    conf = np.asarray(Image.open(tmp_path / 'confidence' / name))
    probs = torch.softmax(logits, 0).max(0)[0].numpy()
    np.testing.assert_array_equal(conf, np.round(probs * 65535))
    assert conf[0, 0] > 65000 and conf[1, 1] == round(65535 / 19)
    with pytest.raises(KeyError, match='seg_logits'):
        metric.process({}, [_sample(pred, 'b_rgb_anon.png')])


def test_val_split_is_scored_too(tmp_path):
    label = np.array([[0, 0, 1, 1]])
    pred = np.array([[0, 1, 1, 1]])
    metric = BenchmarkSubmissionMetric(server='acdc', output_dir=str(tmp_path),
                                       format_only=False)
    metric.dataset_meta = META
    metric.process({}, [_sample(pred, 'a_rgb_anon.png', label=label)])
    # road 1/2, sidewalk 2/3
    assert metric.evaluate(1)['mIoU'] == pytest.approx(
        100 * (1 / 2 + 2 / 3) / 2, abs=0.006)
    with pytest.raises(ValueError, match='server'):
        BenchmarkSubmissionMetric(server='cityscapes', output_dir='x')
