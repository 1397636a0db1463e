"""The frozen ImageNet copy behind DAFormer's feature distance.

DAFormer (Hoyer et al., CVPR 2022, Sec. 3.4; ``mmseg/models/uda/dacs.py``
``calc_feat_dist``) keeps the student's source features close to those of a
frozen, ImageNet-initialized model. Here the copy is the backbone (and neck)
alone, built from the student's own config, held outside the module tree
(not in the state dict, not trained, not seen by DDP) and shared, never
copied, when the segmentor is deep-copied (the mean teacher is a deep copy;
DAFormer's ``ema_model`` has no ImageNet copy either).
"""
import copy
from typing import Dict, List, Optional

import torch
from mmseg.registry import MODELS
from mmseg.utils import ConfigType
from torch import Tensor, nn

from ..losses.imnet_feature_distance import (downscale_label_ratio,
                                             masked_feature_distance)
from ..utils.checks import check_option_dict
from .uda_utils import check_weight

__all__ = ['ImageNetCopy', 'build_imnet_copy', 'imnet_fd_config',
           'imnet_fd_loss']

_FD_KEYS = ('lambda_fd', 'classes', 'scale_min_ratio')


class ImageNetCopy(tuple):
    """A one-element tuple holding the frozen copy; :func:`copy.deepcopy`
    returns it unchanged, so a deep copy of the segmentor (the teacher)
    refers to the same frozen network instead of holding a second one."""

    def __deepcopy__(self, memo: dict) -> 'ImageNetCopy':
        return self


def imnet_fd_config(owner: str, cfg: dict) -> dict:
    """``imnet_feature_dist`` with DAFormer's defaults, checked."""
    fd = dict(lambda_fd=0.005, classes=(6, 7, 11, 12, 13, 14, 15, 16, 17,
                                        18), scale_min_ratio=0.75)
    fd.update(check_option_dict(owner, 'imnet_feature_dist', cfg, _FD_KEYS))
    fd['lambda_fd'] = check_weight('imnet_feature_dist.lambda_fd',
                                   fd['lambda_fd'])
    return fd


def build_imnet_copy(owner: str, backbone: ConfigType,
                     neck: Optional[ConfigType]) -> nn.Sequential:
    """The frozen backbone (+ neck), from the student's configs.

    Raises:
        ValueError: When the backbone config names no ImageNet weights.
    """
    # EncoderDecoder has put `pretrained` into the backbone config.
    backbone = copy.deepcopy(backbone)
    init = backbone.get('init_cfg') or {}
    if not backbone.get('pretrained') and (not isinstance(init, dict) or
                                           init.get('type') != 'Pretrained'):
        raise ValueError(
            f'{owner}: imnet_feature_dist keeps the '
            'features close to the ImageNet-initialized backbone, but '
            'no ImageNet weights are given; set model.pretrained (or the '
            "backbone's init_cfg=dict(type='Pretrained', ...)) or "
            'imnet_feature_dist=None.')
    modules = [MODELS.build(backbone)]
    if neck is not None:
        modules.append(MODELS.build(copy.deepcopy(neck)))
    return nn.Sequential(*modules).requires_grad_(False).eval()


def imnet_features(imnet: nn.Sequential, inputs: Tensor) -> List[Tensor]:
    """Features of the frozen copy (eval mode, no gradient), on the
    device of ``inputs``."""
    if next(imnet.parameters()).device != inputs.device:
        imnet.to(inputs.device)
    imnet.eval()
    with torch.no_grad():
        feats = imnet[0](inputs)
        if len(imnet) > 1:
            feats = imnet[1](feats)
    return list(feats)


def imnet_fd_loss(fd: dict, feat: Tensor, feat_imnet: Tensor,
                  labels: Tensor, num_classes: int) -> Dict[str, Tensor]:
    """``loss_imnet_fd``: ``lambda_fd`` x the masked distance of ``feat`` to
    ``feat_imnet`` on cells of ``fd['classes']`` (every cell when None).

    Args:
        fd (dict): From :func:`imnet_fd_config`.
        feat (Tensor): The student's ``N x C x h x w`` features.
        feat_imnet (Tensor): The frozen copy's, same shape.
        labels (Tensor): ``N x H x W`` source labels of the same images.
        num_classes (int): Number of classes.
    """
    mask = None
    if fd['classes'] is not None:
        small = downscale_label_ratio(labels, feat.shape[2:],
                                      fd['scale_min_ratio'], num_classes)
        mask = torch.isin(small, small.new_tensor(list(fd['classes'])))
    return dict(loss_imnet_fd=fd['lambda_fd'] *
                masked_feature_distance(feat, feat_imnet, mask))
