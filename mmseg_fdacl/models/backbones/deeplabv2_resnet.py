"""The ResNet-101 trunk of DeepLabV2 as FDA, ADVENT and DACS train it.

Chen et al., "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets,
Atrous Convolution, and Fully Connected CRFs", TPAMI 2017; the layout follows
``model/deeplab.py`` of YanchaoYang/FDA (itself from AdaptSegNet): the classic
caffe-style ResNet (one 7x7 stem convolution, the stride in the first 1x1
convolution of a block), a max-pool with ``ceil_mode=True``, dilation 2 in
every block of stage 3 and 4 in every block of stage 4 (output stride 8), and
BatchNorm whose affine parameters are never trained.
"""
from mmseg.models.backbones import ResNet
from mmseg.registry import MODELS
from mmseg.utils import ConfigType
from torch import nn


@MODELS.register_module()
class DeepLabV2ResNet(ResNet):
    """:class:`mmseg.models.backbones.ResNet` with DeepLabV2's defaults.

    The parameter names are MMSeg's (``conv1``, ``bn1``, ``layer1.0.conv1``,
    ``layer1.0.downsample.0``, ...), so ``tools/model_converters/
    deeplabv2_reference.py`` maps the reference checkpoints one to one. The
    only structural difference from MMSeg's ``ResNet`` is the stem max-pool
    (``ceil_mode``): at 1024x512 it gives the reference's 129x65 stride-8
    map instead of 128x64.

    Args:
        depth (int): 101 for DeepLabV2. Default: 101.
        maxpool_ceil_mode (bool): ``ceil_mode`` of the stem max-pool. The
            reference uses True; False is MMSeg's ``ResNet``. Default: True.
        norm_cfg (dict): ``requires_grad=False`` keeps BatchNorm's weight and
            bias fixed, as the reference. Default:
            ``dict(type='BN', requires_grad=False)``.
        norm_eval (bool): True freezes the running statistics too. The
            reference calls ``model.train()``, so its BatchNorm normalizes
            with batch statistics and updates the running ones: False.
            Default: False.
        **kwargs: Other :class:`ResNet` arguments. Defaults here: ``style=
            'caffe'``, ``deep_stem=False``, ``strides=(1, 2, 1, 1)``,
            ``dilations=(1, 1, 2, 4)``, ``contract_dilation=False``,
            ``zero_init_residual=False``, ``out_indices=(3, )``.
    """

    def __init__(self,
                 depth: int = 101,
                 *,
                 maxpool_ceil_mode: bool = True,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=False),
                 norm_eval: bool = False,
                 **kwargs) -> None:
        if not isinstance(maxpool_ceil_mode, bool):
            raise ValueError('DeepLabV2ResNet: `maxpool_ceil_mode` must be a '
                             f'bool, got {maxpool_ceil_mode!r}.')
        defaults = dict(
            style='caffe',
            deep_stem=False,
            strides=(1, 2, 1, 1),
            dilations=(1, 1, 2, 4),
            contract_dilation=False,
            # The reference initializes every BatchNorm weight to 1 and never
            # trains it: MMSeg's zero-initialized last BN of each block would
            # stay 0 and switch the residual branches off for good.
            zero_init_residual=False,
            out_indices=(3, ))
        for key, value in defaults.items():
            kwargs.setdefault(key, value)
        super().__init__(
            depth=depth, norm_cfg=norm_cfg, norm_eval=norm_eval, **kwargs)
        self.maxpool_ceil_mode = maxpool_ceil_mode
        if maxpool_ceil_mode:
            self.maxpool = nn.MaxPool2d(
                kernel_size=3, stride=2, padding=1, ceil_mode=True)
