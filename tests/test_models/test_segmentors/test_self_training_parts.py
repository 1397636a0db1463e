"""SelfTrainingEncoderDecoder's ClassMix pool option, the ImageNet copy kept
out of the teacher, and the loader's pseudo-label margins (HRDA)."""
import copy

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS, TRANSFORMS
from mmseg.structures import SegDataSample

from tests.test_models.test_losses.test_imnet_feature_distance import \
    _cfg as _fd_cfg
from tests.test_models.test_segmentors.test_self_training_encoder_decoder \
    import _build, _cfg, _reset_iter  # noqa: F401



def test_class_mix_pool_default_is_daformers_and_image_is_an_option():
    assert _build().class_mix.pool == 'batch'
    assert _build(class_mix_pool='image').class_mix.pool == 'image'
    with pytest.raises(ValueError, match='`pool`'):
        MODELS.build(_cfg(class_mix_pool='dataset'))


def test_teacher_copy_shares_the_frozen_imagenet_copy(tmp_path):
    model = MODELS.build(_fd_cfg(tmp_path, imnet_feature_dist=dict()))
    model.init_weights()
    teacher = copy.deepcopy(model)
    assert teacher._imnet[0] is model._imnet[0]
    # The student's own modules are copied.
    assert teacher.backbone is not model.backbone


def _logits_and_sample(mask=None):
    logits = torch.zeros(1, 19, 8, 8)
    logits[:, 1] = 10.0
    sample = SegDataSample(metainfo=dict(img_shape=(8, 8)))
    if mask is not None:
        sample.set_data(dict(valid_pseudo_mask=PixelData(data=mask[None])))
    return logits, sample


def test_loader_margins_zero_the_pseudo_label_weight():
    model = _build()
    mask = torch.ones(8, 8, dtype=torch.uint8)
    mask[:2] = 0
    mask[:, 6:] = 0
    logits, sample = _logits_and_sample(mask)
    model._teacher_logits = lambda view: logits
    _, weight, quality = model.pseudo_labels(torch.zeros(1, 3, 8, 8),
                                             [sample])
    assert quality.item() == 1.0
    assert torch.equal(weight[0], mask.float())
    both = _build(pseudo_weight_ignore_top=1)
    both._teacher_logits = lambda view: logits
    with pytest.raises(ValueError, match='use one'):
        both.pseudo_labels(torch.zeros(1, 3, 8, 8), [sample])


def test_margins_transform_moves_with_the_crop():
    img = np.zeros((20, 40, 3), np.uint8)
    results = TRANSFORMS.build(
        dict(type='PseudoLabelMargins', margins=(2, 5, 3, 4)))(
            dict(img=img, seg_fields=[]))
    mask = results['valid_pseudo_mask']
    expect = np.zeros((20, 40), np.uint8)
    expect[2:15, 3:36] = 1
    assert np.array_equal(mask, expect)
    assert 'valid_pseudo_mask' in results['seg_fields']
    # MMSeg's RandomCrop crops every seg field with the image.
    results['gt_seg_map'] = np.zeros((20, 40), np.uint8)
    cropped = TRANSFORMS.build(dict(type='RandomCrop',
                                    crop_size=(10, 10)))(results)
    assert cropped['valid_pseudo_mask'].shape == (10, 10)
    packed = TRANSFORMS.build(dict(type='PackSegInputsWithMargins'))(
        cropped)
    assert packed['data_samples'].valid_pseudo_mask.data.shape == (1, 10,
                                                                   10)
    with pytest.raises(ValueError, match='four'):
        TRANSFORMS.build(dict(type='PseudoLabelMargins', margins=(1, 2)))
