"""The released-checkpoint converter on state dicts in the releases' exact
key layout.

The layout is not typed by hand: small module trees with the attribute names
of the releases' definitions (SegFormer's MiT as lhoyer/DAFormer
``mmseg/models/backbones/mix_transformer.py``: ``patch_embed<i>.proj/norm``,
``block<i>.<j>.{norm1, attn.{q, kv, proj, sr, norm}, norm2, mlp.{fc1,
dwconv.dwconv, fc2}}``, ``norm<i>``; DAFormer's ``daformer_head.py``: MLP
``proj`` per level, ``ASPPWrapper`` with mmcv ``ConvModule`` /
``DepthwiseSeparableConvModule``; HRDA's ``hrda_head.py``: ``head`` and
``scale_attention``; DAFormer's ``dlv2_head.py``: MMSeg 0.16's
``ASPPModule`` of ConvModules) are built and their ``state_dict()`` keys are
prefixed as the UDA wrapper saves them.
"""
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmseg.registry import MODELS

import mmseg_fdacl  # noqa: F401
from mmseg_fdacl.converters.daformer_release import (
    ReleaseCheckpointError, convert_release_checkpoint,
    convert_release_state_dict, release_state_dict, split_release_state_dict)
from tests.helpers import tiny_mit_daformer_cfg

WIDTHS = [8, 16, 40, 64]           # tiny_mit_daformer_cfg: 8 x (1, 2, 5, 8)
SR_RATIOS = [8, 4, 2, 1]
PATCH = [(7, 4), (3, 2), (3, 2), (3, 2)]
BN = dict(type='BN', requires_grad=True)


class _RefAttention(nn.Module):
    def __init__(self, dim, sr_ratio):
        super().__init__()
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, sr_ratio)
            self.norm = nn.LayerNorm(dim)


class _RefDWConv(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)


class _RefMlp(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.dwconv = _RefDWConv(4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)


class _RefBlock(nn.Module):
    def __init__(self, dim, sr_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = _RefAttention(dim, sr_ratio)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = _RefMlp(dim)


class _RefPatchEmbed(nn.Module):
    def __init__(self, cin, dim, k, s):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, k, s, k // 2)
        self.norm = nn.LayerNorm(dim)


def _ref_mit(depths=(1, 1, 1, 1)):
    mit = nn.Module()
    cin = 3
    for i, (dim, sr, (k, s), depth) in enumerate(
            zip(WIDTHS, SR_RATIOS, PATCH, depths), 1):
        setattr(mit, f'patch_embed{i}', _RefPatchEmbed(cin, dim, k, s))
        setattr(mit, f'block{i}',
                nn.ModuleList(_RefBlock(dim, sr) for _ in range(depth)))
        setattr(mit, f'norm{i}', nn.LayerNorm(dim))
        cin = dim
    return mit


class _RefLinearEmbed(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.proj = nn.Linear(cin, dim)


def _ref_daformer_head(channels, embed, classes, aspp=True):
    head = nn.Module()
    head.embed_layers = nn.ModuleDict(
        {str(i): _RefLinearEmbed(c, embed) for i, c in enumerate(WIDTHS)})
    cat = embed * len(WIDTHS)
    if aspp:
        fuse = nn.Module()
        fuse.aspp_modules = nn.ModuleList(
            [ConvModule(cat, channels, 1, norm_cfg=BN)] + [
                DepthwiseSeparableConvModule(cat, channels, 3, padding=d,
                                             dilation=d, norm_cfg=BN)
                for d in (6, 12, 18)])
        fuse.bottleneck = ConvModule(4 * channels, channels, 3, padding=1,
                                     norm_cfg=BN)
        head.fuse_layer = fuse
    else:  # HRDA's attention head: the 1x1 conv fusion
        head.fuse_layer = ConvModule(cat, channels, 1, norm_cfg=BN)
    head.conv_seg = nn.Conv2d(channels, classes, 1)
    return head


def _randomized(module, seed):
    g = torch.Generator().manual_seed(seed)
    return {k: (torch.randn(v.shape, generator=g) if v.is_floating_point()
                else v.clone()) for k, v in module.state_dict().items()}


def _release(nets):
    """{'model.': net, ...} -> one state dict with the wrapper's prefixes."""
    out = {}
    for prefix, net in nets.items():
        out.update({prefix + k: v for k, v in net.items()})
    return out


def _daformer_net(seed):
    net = nn.Module()
    net.backbone = _ref_mit()
    net.decode_head = _ref_daformer_head(16, 16, 19)
    return _randomized(net, seed)


def _ours_daformer():
    return MODELS.build(dict(type='EncoderDecoder', **tiny_mit_daformer_cfg()))


def test_daformer_release_loads_strictly_and_keeps_every_tensor():
    student, teacher = _daformer_net(0), _daformer_net(1)
    imnet = {k: v for k, v in _daformer_net(2).items()
             if k.startswith('backbone.')}
    release = _release({'model.': student, 'ema_model.': teacher,
                        'imnet_model.': imnet})
    for weights, src in (('student', student), ('teacher', teacher)):
        ours = convert_release_state_dict(release, weights)
        model = _ours_daformer()
        model.load_state_dict(ours, strict=True)
        # The head's keys and tensors are the release's.
        for k, v in src.items():
            if k.startswith('decode_head.'):
                assert torch.equal(ours[k], v), k
        # MMSeg's attention holds SegFormer's q and kv stacked.
        in_proj = ours['backbone.layers.0.1.0.attn.attn.in_proj_weight']
        torch.testing.assert_close(in_proj, torch.cat(
            [src['backbone.block1.0.attn.q.weight'],
             src['backbone.block1.0.attn.kv.weight']]))
        fc1 = ours['backbone.layers.2.1.0.ffn.layers.0.weight']
        assert torch.equal(fc1[..., 0, 0],
                           src['backbone.block3.0.mlp.fc1.weight'])
        assert torch.equal(ours['backbone.layers.3.2.weight'],
                           src['backbone.norm4.weight'])
    # Round trip: back to the releases' layout, every key and tensor equal.
    back = release_state_dict(
        convert_release_state_dict(release, 'student'),
        convert_release_state_dict(release, 'teacher'),
        {k: v for k, v in convert_release_state_dict(
            _release({'model.': imnet}), 'student').items()})
    assert back.keys() == release.keys()
    for k in release:
        assert torch.equal(back[k], release[k]), k


def test_hrda_release_head_names_pass_through():
    net = nn.Module()
    net.backbone = _ref_mit()
    net.decode_head = nn.Module()
    net.decode_head.head = _ref_daformer_head(16, 16, 19)
    net.decode_head.scale_attention = _ref_daformer_head(16, 16, 19,
                                                         aspp=False)
    student = _randomized(net, 0)
    ours = convert_release_state_dict(_release({'model.': student}))
    # This project's HRDAHead: `head` and `scale_attention` DAFormerHeads
    # (the attention head fuses with a 1x1 conv, as HRDA's).
    tiny = tiny_mit_daformer_cfg()
    decode_head = nn.Module()
    decode_head.head = MODELS.build(tiny['decode_head'])
    decode_head.scale_attention = MODELS.build(dict(
        tiny['decode_head'],
        fusion_cfg=dict(layer='conv', kernel_size=1,
                        act_cfg=dict(type='ReLU'), norm_cfg=BN)))
    decode_head.load_state_dict(
        {k[len('decode_head.'):]: v for k, v in ours.items()
         if k.startswith('decode_head.')}, strict=True)


def test_deeplabv2_release_branches_lose_their_conv_level():
    backbone = MODELS.build(dict(type='ResNetV1c', depth=18, base_channels=4,
                                 stem_channels=8, out_indices=(3, )))
    head = nn.Module()  # DAFormer's DLV2Head: MMSeg 0.16's ASPPModule
    head.aspp_modules = nn.ModuleList(
        ConvModule(32, 19, 3, padding=d, dilation=d, norm_cfg=None,
                   act_cfg=None) for d in (6, 12))
    net = nn.Module()
    net.backbone, net.decode_head = backbone, head
    student = _randomized(net, 0)
    release = _release({'model.': student, 'ema_model.': student})
    ours = convert_release_state_dict(release, 'teacher')
    model = MODELS.build(dict(
        type='EncoderDecoder',
        backbone=dict(type='ResNetV1c', depth=18, base_channels=4,
                      stem_channels=8, out_indices=(3, )),
        decode_head=dict(type='DLV2Head', in_channels=32, in_index=0,
                         num_classes=19, dilations='deeplabv2red')))
    model.load_state_dict(ours, strict=True)
    assert torch.equal(ours['decode_head.aspp_modules.1.weight'],
                       student['decode_head.aspp_modules.1.conv.weight'])
    back = release_state_dict(ours)
    assert back.keys() == {'model.' + k for k in student}


def test_bad_releases_are_named(tmp_path):
    with pytest.raises(ReleaseCheckpointError, match='not a DAFormer'):
        split_release_state_dict({'backbone.x': torch.zeros(1)}, 'plain.pth')
    only_student = _release({'model.': _daformer_net(0)})
    with pytest.raises(ReleaseCheckpointError, match='no teacher'):
        convert_release_state_dict(only_student, 'teacher')
    with pytest.raises(FileNotFoundError, match='Nothing is downloaded'):
        convert_release_checkpoint(str(tmp_path / 'missing.pth'),
                                   str(tmp_path / 'out.pth'))


def test_tool_writes_a_checkpoint_mmseg_loads(tmp_path):
    from mmengine.runner import load_checkpoint
    from tools.model_converters.daformer_release import main
    student, teacher = _daformer_net(0), _daformer_net(1)
    src, dst = str(tmp_path / 'latest.pth'), str(tmp_path / 'mmseg.pth')
    # As mmcv 1.x saves it: meta with the class names and a numpy scalar.
    torch.save(dict(
        state_dict=_release({'model.': student, 'ema_model.': teacher}),
        meta=dict(CLASSES=('road', 'sidewalk'), iter=40000,
                  hook_msgs=dict(best_score=np.float64(0.68)))), src)
    main([src, dst, '--weights', 'teacher'])
    model = _ours_daformer()
    ckpt = load_checkpoint(model, dst, map_location='cpu', strict=True)
    assert ckpt['meta']['weights'] == 'teacher'
    assert torch.equal(model.state_dict()['decode_head.conv_seg.weight'],
                       teacher['decode_head.conv_seg.weight'])
    with pytest.raises(SystemExit, match='already exists'):
        main([src, dst])
