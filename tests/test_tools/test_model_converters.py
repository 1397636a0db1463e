"""tools/model_converters/deeplabv2_reference.py and its library.

The reference network below is written here from the published architecture
(DeepLabV2 ResNet-101 as in ``model/deeplab.py`` of YanchaoYang/FDA), not
imported from the project, so the conversion is checked against an
independent implementation: same keys, same shapes, same logits.
"""
import copy
import os
import os.path as osp
import runpy
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from torch import nn

from mmseg.registry import MODELS
from mmseg_fdacl.converters.deeplabv2_weights import (
    ReferenceCheckpointError, convert_checkpoint, convert_fda_state_dict,
    convert_init_state_dict, load_reference_state_dict,
    reference_classifier_keys, reference_trunk_shapes, unwrap_state_dict)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools/model_converters/deeplabv2_reference.py')
MODEL_CFG = osp.join(REPO, 'configs/_base_/models/deeplabv2_r101-d8.py')
R101 = [3, 4, 23, 3]
# Odd input whose 7x7/2 stem output (48x64) is divisible by 4: the ceil-mode
# max-pool gives 25x33 (floor mode 24x32), so the stride-8 logits are 13x17
# with ceil_mode=True and 12x16 without -- ceil_mode changes the shape.
INPUT_HW = (95, 127)
STRIDE8_HW = (13, 17)


# --------------------------------------------------------------------------
# Independent reference: DeepLabV2 ResNet-101 (FDA/AdaptSegNet layout).
# --------------------------------------------------------------------------
class RefBottleneck(nn.Module):
    """1x1 (stride) -> 3x3 (dilated) -> 1x1 (x4), BatchNorm after each."""

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 stride: int = 1,
                 dilation: int = 1,
                 downsample: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            inplanes, planes, kernel_size=1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes,
            planes,
            kernel_size=3,
            stride=1,
            padding=dilation,
            dilation=dilation,
            bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class RefClassifier(nn.Module):
    """``layer5``: parallel dilated 3x3 convolutions (bias), summed."""

    def __init__(self, inplanes: int, dilations: Sequence[int],
                 num_classes: int) -> None:
        super().__init__()
        self.conv2d_list = nn.ModuleList(
            nn.Conv2d(
                inplanes,
                num_classes,
                kernel_size=3,
                padding=d,
                dilation=d,
                bias=True) for d in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2d_list[0](x)
        for conv in self.conv2d_list[1:]:
            out = out + conv(x)
        return out


class RefResNet101(nn.Module):
    """DeepLabV2: 7x7/2 stem, ceil-mode max-pool, dilation 2/4, layer5."""

    def __init__(self,
                 layers: Sequence[int] = R101,
                 num_classes: int = 19) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(
            3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(
            kernel_size=3, stride=2, padding=1, ceil_mode=True)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], dilation=2)
        self.layer4 = self._make_layer(512, layers[3], dilation=4)
        self.layer5 = RefClassifier(2048, (6, 12, 18, 24), num_classes)

    def _make_layer(self,
                    planes: int,
                    blocks: int,
                    stride: int = 1,
                    dilation: int = 1) -> nn.Sequential:
        downsample = nn.Sequential(
            nn.Conv2d(
                self.inplanes,
                planes * 4,
                kernel_size=1,
                stride=stride,
                bias=False), nn.BatchNorm2d(planes * 4))
        layers = [
            RefBottleneck(self.inplanes, planes, stride, dilation, downsample)
        ]
        self.inplanes = planes * 4
        layers += [
            RefBottleneck(self.inplanes, planes, dilation=dilation)
            for _ in range(1, blocks)
        ]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits at stride 8 (FDA's test-phase output)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.layer5(x)


@torch.no_grad()
def randomize_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random weights and BatchNorm statistics, scaled to stay finite."""
    gen = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            fan_in = module.weight[0].numel()
            module.weight.copy_(
                torch.randn(module.weight.shape, generator=gen) *
                (1.0 / fan_in)**0.5)
            if module.bias is not None:
                module.bias.copy_(
                    torch.randn(module.bias.shape, generator=gen) * 0.1)
        elif isinstance(module, nn.BatchNorm2d):
            n = module.num_features
            module.weight.copy_(torch.rand(n, generator=gen) * 0.5 + 0.5)
            module.bias.copy_(torch.randn(n, generator=gen) * 0.1)
            module.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            module.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            module.num_batches_tracked.fill_(
                int(torch.randint(1, 1000, (1, ), generator=gen)))
    return model


def build_segmentor(pretrained: Optional[str] = None) -> nn.Module:
    """The EncoderDecoder of configs/_base_/models/deeplabv2_r101-d8.py."""
    cfg = Config.fromfile(MODEL_CFG).model
    cfg.pretrained = pretrained
    return MODELS.build(cfg)


def segmentor_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Logits at stride 8, before any resize, like RefResNet101.forward."""
    return model.decode_head.forward(model.extract_feat(x))


def meta_reference(layers: Sequence[int] = R101,
                   num_classes: int = 19) -> Dict[str, torch.Tensor]:
    """State dict (meta tensors: shapes only) of the reference network."""
    with torch.device('meta'):
        return RefResNet101(layers, num_classes).state_dict()


def no_num_batches_tracked(sd: Dict[str, torch.Tensor]) -> 'OrderedDict':
    return OrderedDict(
        (k, v) for k, v in sd.items() if not k.endswith('num_batches_tracked'))


def cli_main(argv: List[str]) -> None:
    runpy.run_path(TOOL)['main'](argv)


# --------------------------------------------------------------------------
# Fixtures: one random reference model, its FDA-style file, the conversion.
# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def reference() -> RefResNet101:
    torch.manual_seed(0)
    return randomize_(RefResNet101(R101, 19)).eval()


@pytest.fixture(scope='module')
def fda_file(reference, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp('fda') / 'gta2city_LB_0_01.pth')
    torch.save(reference.state_dict(), path)
    return path


@pytest.fixture(scope='module')
def converted_fda(fda_file, tmp_path_factory) -> dict:
    dst = str(tmp_path_factory.mktemp('out') / 'fda_mmseg.pth')
    report = convert_checkpoint('fda', fda_file, dst)
    assert report.num_tensors == 632 and report.source_classes == 19
    return torch.load(dst, map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def segmentor(converted_fda) -> nn.Module:
    model = build_segmentor()
    result = model.load_state_dict(converted_fda['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return model.eval()


# --------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------
def test_layout_table_matches_the_published_architecture():
    ref = meta_reference()
    trunk = reference_trunk_shapes()
    ref_trunk = {
        k: tuple(v.shape)
        for k, v in ref.items() if not k.startswith('layer5.')
        and not k.endswith('num_batches_tracked')
    }
    assert ref_trunk == dict(trunk)
    assert list(ref_trunk) == list(trunk)  # same order as the reference
    assert [k for k in ref
            if k.startswith('layer5.')] == reference_classifier_keys()
    assert len(trunk) == 520 and trunk['layer4.0.downsample.0.weight'] == (
        2048, 1024, 1, 1)


# --------------------------------------------------------------------------
# fda: a released FDA model -> the whole EncoderDecoder
# --------------------------------------------------------------------------
def test_fda_conversion_keys_and_meta(converted_fda, reference):
    sd = converted_fda['state_dict']
    assert set(converted_fda) == {'state_dict', 'meta'}
    model_keys = list(build_segmentor_meta().state_dict())
    assert sorted(sd) == sorted(model_keys)
    ref_sd = reference.state_dict()
    for i in range(4):
        for entry in ('weight', 'bias'):
            # Branch i of layer5 (dilation 6, 12, 18, 24) is aspp_modules.i.
            assert torch.equal(sd[f'decode_head.aspp_modules.{i}.{entry}'],
                               ref_sd[f'layer5.conv2d_list.{i}.{entry}'])
    for key in ('conv1.weight', 'layer3.22.bn2.running_var',
                'layer2.0.downsample.1.num_batches_tracked'):
        assert torch.equal(sd['backbone.' + key], ref_sd[key])
    meta = converted_fda['meta']
    assert meta['source'] == 'gta2city_LB_0_01.pth'
    assert meta['filled_num_batches_tracked'] == 0 and not meta['dropped_keys']
    assert len(meta['dataset_meta']['classes']) == 19
    assert meta['dataset_meta']['classes'][0] == 'road'


def build_segmentor_meta() -> nn.Module:
    with torch.device('meta'):
        return build_segmentor()


@torch.no_grad()
def test_fda_forward_equals_reference(segmentor, reference):
    x = torch.randn(
        1, 3, *INPUT_HW, generator=torch.Generator().manual_seed(1))
    ref_out = reference(x.clone())
    out = segmentor_logits(segmentor, x.clone())
    assert ref_out.shape == out.shape == (1, 19, *STRIDE8_HW)
    scale = ref_out.abs().max().item()
    assert torch.isfinite(ref_out).all() and ref_out.std() > 1e-3 * scale
    torch.testing.assert_close(out, ref_out, rtol=0, atol=1e-4 * scale)


@torch.no_grad()
def test_forward_check_catches_wrong_mappings(segmentor, reference):
    """The equality above fails for a permuted head or a floor-mode pool."""
    x = torch.randn(
        1, 3, *INPUT_HW, generator=torch.Generator().manual_seed(2))
    ref_out = reference(x.clone())
    tol = 1e-4 * ref_out.abs().max().item()
    head = segmentor.decode_head.aspp_modules
    saved = copy.deepcopy(head.state_dict())
    try:
        # layer5.conv2d_list.0 -> aspp_modules.1 and vice versa.
        w0, w1 = head[0].weight.clone(), head[1].weight.clone()
        head[0].weight.copy_(w1)
        head[1].weight.copy_(w0)
        diff = (segmentor_logits(segmentor, x.clone()) - ref_out).abs().max()
        assert diff > 100 * tol
    finally:
        head.load_state_dict(saved)
    pool = segmentor.backbone.maxpool
    try:
        pool.ceil_mode = False
        assert segmentor_logits(segmentor, x.clone()).shape[-2:] != (
            ref_out.shape[-2:])
    finally:
        pool.ceil_mode = True


def test_num_batches_tracked_absent(reference, converted_fda):
    old = no_num_batches_tracked(reference.state_dict())  # torch < 0.4.1
    out, info = convert_fda_state_dict(old)
    assert info['filled_num_batches_tracked'] == 104  # every BatchNorm
    full = converted_fda['state_dict']
    assert list(out) == list(full)
    for key, value in out.items():
        if key.endswith('num_batches_tracked'):
            assert value.dtype == torch.long and int(value) == 0
        else:
            assert torch.equal(value, full[key]), key
    # Strict loading is a key/shape match, and loads the trunk completely.
    model = build_segmentor_meta()
    model.load_state_dict(out, strict=True, assign=True)


def test_wrapped_and_data_parallel_checkpoints(reference, converted_fda):
    sd = reference.state_dict()
    for wrapped in ({
            'state_dict': sd
    }, {
            'module.' + k: v
            for k, v in sd.items()
    }, {
            'state_dict': {
                'module.' + k: v
                for k, v in sd.items()
            },
            'meta': {}
    }):
        out, _ = convert_fda_state_dict(unwrap_state_dict(wrapped))
        assert list(out) == list(converted_fda['state_dict'])
        assert torch.equal(out['decode_head.aspp_modules.3.bias'],
                           sd['layer5.conv2d_list.3.bias'])


# --------------------------------------------------------------------------
# init: the ImageNet initialization -> model.pretrained
# --------------------------------------------------------------------------
def init_state_dict(reference: nn.Module, num_classes: int = 21) -> dict:
    """``Scale.<name>`` keys, no num_batches_tracked, an own-class layer5."""
    sd = OrderedDict(
        ('Scale.' + k, v)
        for k, v in no_num_batches_tracked(reference.state_dict()).items()
        if not k.startswith('layer5.'))
    gen = torch.Generator().manual_seed(3)
    for i in range(4):
        sd[f'Scale.layer5.conv2d_list.{i}.weight'] = torch.randn(
            num_classes, 2048, 3, 3, generator=gen) * 0.01
        sd[f'Scale.layer5.conv2d_list.{i}.bias'] = torch.zeros(num_classes)
    return sd


def test_init_conversion_loads_as_pretrained(reference, tmp_path, capsys):
    src = str(tmp_path / 'DeepLab_resnet_pretrained_init-f81d91e8.pth')
    dst = str(tmp_path / 'deeplabv2_init_mmseg.pth')
    init = init_state_dict(reference, num_classes=21)
    torch.save(init, src)
    cli_main(['init', src, dst])
    assert 'Dropped the 21-class classifier' in capsys.readouterr().out

    ckpt = torch.load(dst, map_location='cpu', weights_only=True)
    sd = ckpt['state_dict']
    backbone_keys = list(build_segmentor_meta().backbone.state_dict())
    assert list(sd) == backbone_keys  # the backbone's own names, no layer5
    assert ckpt['meta']['source_classes'] == 21
    assert ckpt['meta']['dropped_keys'] == [
        'Scale.' + k for k in reference_classifier_keys()
    ]
    assert ckpt['meta']['filled_num_batches_tracked'] == 104

    # As model.pretrained: the backbone's Pretrained init loads every trunk
    # tensor (a missing key would keep its Kaiming/constant init).
    model = build_segmentor(pretrained=dst)
    assert model.backbone.init_cfg == dict(type='Pretrained', checkpoint=dst)
    model.init_weights()
    loaded = model.backbone.state_dict()
    assert list(loaded) == backbone_keys
    for key, value in loaded.items():
        if key.endswith('num_batches_tracked'):
            continue
        assert torch.equal(value, init['Scale.' + key]), key
    # The same file, strictly: no missing or unexpected backbone key.
    load_checkpoint(model.backbone, dst, map_location='cpu', strict=True)


def test_init_keep_classifier(reference, converted_fda):
    init = init_state_dict(reference, num_classes=19)
    out, info = convert_init_state_dict(init, keep_classifier=True)
    assert list(out) == list(converted_fda['state_dict'])
    assert torch.equal(out['decode_head.aspp_modules.2.weight'],
                       init['Scale.layer5.conv2d_list.2.weight'])
    assert not info['dropped']
    # Without the flag the classifier is dropped and the keys stay bare.
    out, info = convert_init_state_dict(init)
    assert 'conv1.weight' in out and len(info['dropped']) == 8
    # A 21-class classifier does not fit the 19-class head.
    with pytest.raises(ReferenceCheckpointError) as err:
        convert_init_state_dict(
            init_state_dict(reference, num_classes=21), keep_classifier=True)
    msg = str(err.value)
    assert "Scale.layer5.conv2d_list.0.weight is (21, 2048, 3, 3)" in msg
    assert '(19, 2048, 3, 3)' in msg and 'drop --keep-classifier' in msg


# --------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------
def test_foreign_checkpoints_are_refused():
    trunk = no_num_batches_tracked({
        k: v
        for k, v in meta_reference().items() if not k.startswith('layer5.')
    })

    # torchvision-style classification ResNet-101: same trunk names, fc.
    torchvision = dict(trunk)
    with torch.device('meta'):
        torchvision['fc.weight'] = torch.empty(1000, 2048)
        torchvision['fc.bias'] = torch.empty(1000)
    with pytest.raises(ReferenceCheckpointError) as err:
        convert_fda_state_dict(torchvision, source='resnet101.pth')
    msg = str(err.value)
    assert 'not a DeepLabV2 ResNet-101 checkpoint' in msg
    assert "map nowhere: 'fc.weight' (1000, 2048)" in msg
    assert "'layer5.conv2d_list.0.weight'" in msg  # missing
    assert 'torchvision' in msg and '`init`' in msg

    # One missing block tensor.
    sd = dict(meta_reference())
    del sd['layer3.7.conv2.weight']
    with pytest.raises(
            ReferenceCheckpointError,
            match=r"missing: 'layer3\.7\.conv2\.weight'"):
        convert_fda_state_dict(sd)

    # A ResNet-50 trunk (6 blocks in layer3).
    with pytest.raises(
            ReferenceCheckpointError,
            match=r"missing: 'layer3\.6\.conv1\.weight'"):
        convert_fda_state_dict(meta_reference([3, 4, 6, 3]))

    # A wrong shape: both shapes and the key are named.
    sd = dict(meta_reference())
    with torch.device('meta'):
        sd['layer2.0.conv1.weight'] = torch.empty(128, 256, 3, 3)
    with pytest.raises(ReferenceCheckpointError) as err:
        convert_fda_state_dict(sd)
    assert ("'layer2.0.conv1.weight' is (128, 256, 3, 3) in the checkpoint "
            'but (128, 256, 1, 1)') in str(err.value)

    # Another class count (e.g. a 16-class SYNTHIA model).
    with pytest.raises(ReferenceCheckpointError) as err:
        convert_fda_state_dict(meta_reference(num_classes=16))
    msg = str(err.value)
    assert 'layer5.conv2d_list.0.weight is (16, 2048, 3, 3)' in msg
    assert '(19, 2048, 3, 3)' in msg and '--num-classes 16' in msg

    # An already converted (MMSeg) checkpoint.
    with pytest.raises(
            ReferenceCheckpointError, match='already an MMSeg checkpoint'):
        convert_fda_state_dict(build_segmentor_meta().state_dict())

    # The wrong command for the file.
    init = {'Scale.' + k: v for k, v in meta_reference(num_classes=21).items()}
    with pytest.raises(ReferenceCheckpointError, match='`init` command'):
        convert_fda_state_dict(init)
    with pytest.raises(ReferenceCheckpointError, match='`fda` command'):
        convert_init_state_dict(meta_reference())

    # Not a dict of tensors.
    with pytest.raises(
            ReferenceCheckpointError, match="'optimizer' is a dict"):
        unwrap_state_dict({'conv1.weight': torch.zeros(1), 'optimizer': {}})


_UNPICKLED: List[bool] = []


def _mark_unpickled() -> None:
    _UNPICKLED.append(True)


class _Payload:
    """Runs code when unpickled -- what weights_only=True must refuse."""

    def __reduce__(self):
        return (_mark_unpickled, ())


def test_arbitrary_pickles_are_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'conv1.weight': torch.zeros(1), 'x': _Payload()}, path)
    with pytest.raises(ReferenceCheckpointError, match='refused to load'):
        load_reference_state_dict(path)
    assert not _UNPICKLED
    with pytest.raises(FileNotFoundError, match='Nothing is downloaded'):
        load_reference_state_dict(str(tmp_path / 'absent.pth'))


def test_cli_never_overwrites_without_force(fda_file, converted_fda, tmp_path):
    dst = tmp_path / 'fda_mmseg.pth'
    dst.write_bytes(b'previous')
    with pytest.raises(SystemExit, match='already exists.*--force'):
        cli_main(['fda', fda_file, str(dst)])
    assert dst.read_bytes() == b'previous'

    # A refused source leaves DST (even with --force) and no temporary file.
    bad = str(tmp_path / 'bad.pth')
    torch.save({'fc.weight': torch.zeros(2, 2)}, bad)
    with pytest.raises(SystemExit, match="error: .*'fc.weight' \\(2, 2\\)"):
        cli_main(['fda', bad, str(dst), '--force'])
    assert dst.read_bytes() == b'previous'
    assert sorted(os.listdir(tmp_path)) == ['bad.pth', 'fda_mmseg.pth']

    with pytest.raises(SystemExit, match='is the source checkpoint'):
        cli_main(['fda', fda_file, fda_file, '--force'])

    cli_main(['fda', fda_file, str(dst), '--force'])
    ckpt = torch.load(str(dst), map_location='cpu', weights_only=True)
    assert list(ckpt['state_dict']) == list(converted_fda['state_dict'])
    assert torch.equal(
        ckpt['state_dict']['backbone.layer4.2.conv3.weight'],
        converted_fda['state_dict']['backbone.layer4.2.conv3.weight'])
    assert sorted(os.listdir(tmp_path)) == ['bad.pth', 'fda_mmseg.pth']
