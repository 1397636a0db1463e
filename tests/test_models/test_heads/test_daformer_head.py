"""Tests for DAFormer's decode head (embedding, 1/4 concatenation, ASPP fusion)."""
import pytest
import torch
from mmengine import Config
from mmseg.registry import MODELS

import mmseg_fdacl  # noqa: F401
from mmseg_fdacl.models.decode_heads import DAFormerHead

MODEL_BASE = 'configs/_base_/models/daformer_sepaspp_mitb5.py'
MIT_B5_CHANNELS = [64, 128, 320, 512]


def _head_cfg(**overrides):
    cfg = Config.fromfile(MODEL_BASE).model.decode_head.to_dict()
    cfg.update(overrides)
    return cfg


def _daformer_sepaspp_param_count(in_channels, embed, channels, classes,
                                  dilations):
    """Parameters of DAFormer's daformer_sepaspp head, layer by layer, from
    lhoyer/DAFormer's definition (MLP = Linear with bias; ASPPWrapper with
    pool=False: a 1x1 ConvModule for dilation 1 and a depthwise separable
    ConvModule otherwise, both with BN and so without conv bias; a 3x3
    bottleneck ConvModule; BaseDecodeHead's 1x1 conv_seg with bias)."""
    bn = 2 * channels                                   # BN weight + bias
    embed_layers = sum(c * embed + embed for c in in_channels)
    cat = embed * len(in_channels)
    branches = 0
    for d in dilations:
        if d == 1:
            branches += cat * channels + bn
        else:
            depthwise = cat * 3 * 3 + 2 * cat           # conv + BN(cat)
            pointwise = cat * channels + bn
            branches += depthwise + pointwise
    bottleneck = len(dilations) * channels * channels * 3 * 3 + bn
    conv_seg = channels * classes + classes
    return embed_layers + branches + bottleneck + conv_seg


def test_param_count_for_mit_b5_channels_matches_daformer_definition():
    head = MODELS.build(_head_cfg())
    ours = sum(p.numel() for p in head.parameters())
    expected = _daformer_sepaspp_param_count(
        MIT_B5_CHANNELS, 256, 256, 19, (1, 6, 12, 18))
    assert ours == expected == 3_712_275


def test_shapes_follow_the_first_level():
    torch.manual_seed(0)
    head = MODELS.build(_head_cfg())
    head.eval()
    # MiT-B5 features of a 128x256 crop: strides 4, 8, 16, 32.
    feats = [torch.randn(2, c, 32 // 2**i, 64 // 2**i)
             for i, c in enumerate(MIT_B5_CHANNELS)]
    out = head(feats)
    assert out.shape == (2, 19, 32, 64)
    fused = head._fused_features(feats)
    assert fused.shape == (2, 256, 32, 64)


def test_module_names_are_daformers():
    head = MODELS.build(_head_cfg())
    names = {n for n, _ in head.named_parameters()}
    for key in ('embed_layers.0.proj.weight', 'embed_layers.3.proj.bias',
                'fuse_layer.aspp_modules.0.conv.weight',
                'fuse_layer.aspp_modules.0.bn.weight',
                'fuse_layer.aspp_modules.1.depthwise_conv.conv.weight',
                'fuse_layer.aspp_modules.3.pointwise_conv.bn.bias',
                'fuse_layer.bottleneck.conv.weight', 'conv_seg.weight'):
        assert key in names, key


def test_embedding_is_a_linear_map_per_pixel():
    head = DAFormerHead(in_channels=[3, 5], in_index=[0, 1], channels=4,
                        num_classes=2, embed_dims=6,
                        fusion_cfg=dict(layer='conv', kernel_size=1))
    x = torch.randn(1, 5, 3, 4)
    layer = head.embed_layers['1']
    expected = torch.einsum('oc,nchw->nohw', layer.proj.weight, x) \
        + layer.proj.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(layer(x), expected)


def test_pool_branch_and_conv_fusion_options():
    pooled = DAFormerHead(
        in_channels=[4, 4], in_index=[0, 1], channels=8, num_classes=3,
        embed_dims=4, norm_cfg=dict(type='BN'),
        fusion_cfg=dict(layer='aspp', sep=False, dilations=(1, 2), pool=True,
                        norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')))
    assert pooled.fuse_layer.image_pool is not None
    assert pooled.fuse_layer.bottleneck.conv.in_channels == 3 * 8
    out = pooled([torch.randn(2, 4, 8, 8), torch.randn(2, 4, 4, 4)])
    assert out.shape == (2, 3, 8, 8)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='align_corners'):
        MODELS.build(_head_cfg(align_corners=True))
    with pytest.raises(ValueError, match='fusion_cfg'):
        MODELS.build(_head_cfg(fusion_cfg=dict(layer='isa')))
    with pytest.raises(ValueError, match='embed_dims'):
        MODELS.build(_head_cfg(embed_dims=[256, 256]))
    with pytest.raises(ValueError, match='input_transform'):
        MODELS.build(_head_cfg(input_transform='resize_concat'))


def test_tiny_mit_with_daformer_head_forward():
    cfg = Config.fromfile(MODEL_BASE).model
    cfg.pretrained = None
    cfg.backbone.update(embed_dims=8, num_layers=[1, 1, 1, 1],
                        num_heads=[1, 2, 5, 8])
    cfg.decode_head.update(in_channels=[8, 16, 40, 64], channels=16,
                           embed_dims=16)
    model = MODELS.build(cfg)
    model.init_weights()
    x = torch.randn(1, 3, 64, 96)
    feats = model.extract_feat(x)
    assert [f.shape[1] for f in feats] == [8, 16, 40, 64]
    assert [f.shape[2:] for f in feats] == [(16, 24), (8, 12), (4, 6), (2, 3)]
    logits = model.decode_head(feats)
    assert logits.shape == (1, 19, 16, 24)
    assert model._forward(x).shape == (1, 19, 16, 24)


def test_mit_b5_base_has_b5_channels():
    cfg = Config.fromfile(MODEL_BASE).model.backbone
    cfg = cfg.to_dict()
    mit = MODELS.build(cfg)
    # MiT-B5 without a classifier (SegFormer reports about 82M with its head).
    n = sum(p.numel() for p in mit.parameters())
    assert n == 81_443_008
    stage_dims = [stage[0].projection.out_channels for stage in mit.layers]
    assert stage_dims == MIT_B5_CHANNELS
    assert [len(stage[1]) for stage in mit.layers] == [3, 6, 40, 3]


def test_missing_imagenet_weights_name_the_file(tmp_path):
    cfg = Config.fromfile(MODEL_BASE).model
    missing = str(tmp_path / 'mit_b5_mmseg.pth')
    cfg.pretrained = missing
    cfg.backbone.update(embed_dims=8, num_layers=[1, 1, 1, 1])
    cfg.decode_head.update(in_channels=[8, 16, 40, 64], channels=16,
                           embed_dims=16)
    model = MODELS.build(cfg)
    with pytest.raises(FileNotFoundError, match='mit_b5_mmseg.pth'):
        model.init_weights()
