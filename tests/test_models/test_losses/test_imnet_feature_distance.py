"""DAFormer's ImageNet feature distance: the label pooling and the masked
distance against hand computations, and the segmentor's term."""
import copy

import pytest
import torch
from mmengine.config import ConfigDict
from mmseg.registry import MODELS

from mmseg_fdacl.models.losses.imnet_feature_distance import (
    downscale_label_ratio, masked_feature_distance)
from tests.helpers import tiny_deeplabv2_cfg
from tests.test_models.test_segmentors.test_self_training_encoder_decoder \
    import _data, _losses


def test_downscale_label_ratio_by_hand():
    labels = torch.tensor([[[1, 1, 2, 2], [1, 1, 2, 255], [3, 3, 0, 0],
                            [3, 1, 0, 0]]])
    out = downscale_label_ratio(labels, (2, 2), 0.75, num_classes=4)
    # cells: all 1; three 2 and an ignore (2 covers 0.75); three 3 and a 1;
    # all 0
    assert out.tolist() == [[[1, 2], [3, 0]]]
    out = downscale_label_ratio(labels, (2, 2), 0.8, num_classes=4)
    assert out.tolist() == [[[1, 255], [255, 0]]]
    # an ignored majority stays ignored
    labels = torch.full((1, 2, 2), 255)
    assert downscale_label_ratio(labels, (1, 1), 0.5, 4).item() == 255


def test_masked_feature_distance_by_hand():
    f1 = torch.zeros(1, 2, 1, 2, requires_grad=True)
    f2 = torch.tensor([[[[3.0, 0.0]], [[4.0, 1.0]]]])
    assert masked_feature_distance(f1, f2).item() == pytest.approx(3.0)
    mask = torch.tensor([[[True, False]]])
    assert masked_feature_distance(f1, f2, mask).item() == pytest.approx(5.0)
    empty = masked_feature_distance(f1, f2, torch.zeros_like(mask))
    assert empty.item() == 0 and empty.requires_grad


def _cfg(tmp_path, **kw):
    cfg = tiny_deeplabv2_cfg()
    backbone = MODELS.build(ConfigDict(copy.deepcopy(cfg['backbone'])))
    path = str(tmp_path / 'imnet.pth')
    torch.save(dict(state_dict=backbone.state_dict()), path)
    cfg.update(type='SelfTrainingEncoderDecoder', pretrained=path, **kw)
    cfg['data_preprocessor'].update(type='UDADataPreProcessor')
    return ConfigDict(cfg)


def test_segmentor_feature_distance(tmp_path):
    model = MODELS.build(_cfg(tmp_path, imnet_feature_dist=dict(classes=None)))
    model.init_weights()
    model.attach_teacher(copy.deepcopy(model))
    # Initialized from the same weights: the same features in eval mode (in
    # training the student's BatchNorm uses batch statistics, the frozen
    # copy its running ones, as DAFormer's frozen ImageNet model).
    model.eval()
    data = _data()
    batch = model.data_preprocessor(data, True)
    feats = model.extract_feat(batch['inputs'])[-1]
    imnet = model._imnet_features(batch['inputs'])[-1]
    torch.testing.assert_close(feats, imnet)
    losses = _losses(model, data)
    assert losses['loss_imnet_fd'].requires_grad
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(0.1)
    assert _losses(model, data)['loss_imnet_fd'] > losses['loss_imnet_fd']
    # The frozen copy is not in the state dict nor trained.
    assert not any('imnet' in k for k in model.state_dict())
    assert all(not p.requires_grad for p in model._imnet[0].parameters())


def test_feature_distance_needs_imagenet_weights():
    cfg = tiny_deeplabv2_cfg()
    cfg.update(type='SelfTrainingEncoderDecoder',
               imnet_feature_dist=dict())
    cfg['data_preprocessor'].update(type='UDADataPreProcessor')
    with pytest.raises(ValueError, match='model.pretrained'):
        MODELS.build(ConfigDict(cfg))
