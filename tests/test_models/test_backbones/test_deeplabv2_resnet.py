"""DeepLabV2ResNet: the reference trunk's layout."""
import torch
from mmseg.registry import MODELS

import mmseg_fdacl  # noqa: F401


def _build(**kw):
    cfg = dict(type='DeepLabV2ResNet', depth=50, base_channels=8,
               stem_channels=8)
    cfg.update(kw)
    return MODELS.build(cfg)


def test_layout_is_the_reference_one():
    m = _build()
    assert m.conv1.kernel_size == (7, 7) and m.conv1.stride == (2, 2)
    assert m.maxpool.ceil_mode
    # caffe style: the stride sits in the first 1x1 convolution
    assert m.layer2[0].conv1.stride == (2, 2)
    assert m.layer2[0].conv2.stride == (1, 1)
    # every block of stage 3 / 4 dilated 2 / 4 (no contracted first block)
    assert all(b.conv2.dilation == (2, 2) for b in m.layer3)
    assert all(b.conv2.dilation == (4, 4) for b in m.layer4)
    assert m.layer3[0].conv1.stride == m.layer4[0].conv1.stride == (1, 1)


def test_output_stride_8_with_ceil_mode_sizes():
    m = _build()
    m.eval()  # MMSeg's ResNet.train() returns None: no chaining
    with torch.no_grad():
        out = m(torch.randn(1, 3, 512, 1024))[0]
    assert out.shape[-2:] == (65, 129)  # the reference's map at 1024x512
    floor = _build(maxpool_ceil_mode=False)
    floor.eval()
    with torch.no_grad():
        assert floor(torch.randn(1, 3, 512, 1024))[0].shape[-2:] == (64, 128)


def test_batchnorm_affine_frozen_statistics_updated():
    m = _build()
    m.init_weights()
    bns = [mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]
    assert bns and all(not p.requires_grad for b in bns
                       for p in b.parameters())
    # The reference initializes BN weights to 1 (no zero-init residual).
    assert all(float(b.weight.min()) == 1.0 for b in bns)
    m.train()
    before = m.bn1.running_mean.clone()
    m(torch.randn(1, 3, 64, 64))
    assert not torch.equal(before, m.bn1.running_mean)  # norm_eval=False
    frozen = _build(norm_eval=True)
    frozen.train()
    before = frozen.bn1.running_mean.clone()
    frozen(torch.randn(1, 3, 64, 64))
    assert torch.equal(before, frozen.bn1.running_mean)
