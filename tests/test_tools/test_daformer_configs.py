"""Every DAFormer MiT-B5 config (1xb2 and the multi-GPU variants) trains 2
iterations on generated data with a tiny MiT and the DAFormer head, with its
own method switches, hooks, dataset options and schedule; then
tools/test.py's path evaluates the checkpoint. The schedule's learning rates
follow DAFormer's (mmcv 1.x poly with linear warm-up) step by step."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim.scheduler import LinearLR, PolyLR
from mmengine.runner import Runner
from mmseg.registry import MODELS

from mmseg_fdacl.demo.runs import runner_cfg
from mmseg_fdacl.utils.dist import replace_sync_bn
from tests.helpers import tiny_mit_daformer_cfg
from tests.test_tools.test_online_configs import _tiny, data  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    osp.relpath(p, ROOT) for p in glob.glob(
        osp.join(ROOT, 'configs/fdacl/daformer_mit-b5_*_gta5-*.py'))
    if '-hrda_' not in p and '_hrda_' not in p)
# The other benchmarks' DAFormer leaves train in test_benchmark_configs.py,
# the HRDA and MIC(HRDA) leaves in test_hrda_configs.py.
SINGLE = 'configs/fdacl/daformer_mit-b5_1xb2-40k_gta5-512x512_cityscapes-512x512.py'


def _tiny_daformer(path, data, work_dir):  # noqa: F811
    cfg = _tiny(path, data, work_dir, tiny=tiny_mit_daformer_cfg())
    # The leaf's own head options (SyncBN) survive the tiny model swap.
    leaf = Config.fromfile(osp.join(ROOT, path)).model.decode_head
    cfg.model.decode_head.norm_cfg = leaf.norm_cfg
    cfg.model.decode_head.fusion_cfg.norm_cfg = leaf.fusion_cfg.norm_cfg
    return cfg


def test_variants_are_found():
    names = [osp.basename(p) for p in CONFIGS]
    for run in ('1xb2-40k', '2xb1-40k', '4xb2-10k', '8xb1-10k'):
        assert any(f'_{run}_' in n for n in names), run


@pytest.mark.parametrize('path', CONFIGS)
def test_daformer_config_trains_and_tests(path, data, tmp_path):  # noqa: F811
    cfg = _tiny_daformer(path, data, str(tmp_path / 'train'))
    assert cfg.model.backbone.type == 'MixVisionTransformer'
    assert cfg.model.decode_head.type == 'DAFormerHead'
    multi_gpu = not osp.basename(path).split('_')[2].startswith('1x')
    # SyncBN in the head of every multi-GPU variant; a single CPU process
    # runs it as BN (as tools/train.py does on CPU-only machines).
    assert (replace_sync_bn(cfg.model) == 2) == multi_gpu
    runner = Runner.from_cfg(cfg)
    runner.train()
    logs = runner.message_hub.log_scalars
    for key in ('loss_ce_src', 'loss_ce_mix', 'loss_imnet_fd', 'pl_quality'):
        assert f'train/{key}' in logs, key
    if multi_gpu:
        return  # the test path is the 1xb2 config's
    ckpt_path = osp.join(str(tmp_path / 'train'), 'iter_2.pth')
    test = runner_cfg(cfg, str(tmp_path / 'test'))
    test.load_from = ckpt_path
    assert 'mIoU' in Runner.from_cfg(test).test()


def test_bf16_autocast_and_activation_checkpointing_options(data, tmp_path):  # noqa: F811,E501
    cfg = _tiny_daformer(SINGLE, data, str(tmp_path))
    # The command-line options docs/daformer.md gives.
    cfg.merge_from_dict({
        'optim_wrapper.type': 'NonFiniteGuardAmpOptimWrapper',
        'optim_wrapper.dtype': 'bfloat16',
        'optim_wrapper.loss_scale.enabled': False,
        'model.backbone.with_cp': True,
    })
    runner = Runner.from_cfg(cfg)
    assert all(layer.with_cp for stage in runner.model.backbone.layers
               for layer in stage[1])
    runner.train()
    assert 'train/loss_ce_src' in runner.message_hub.log_scalars


def test_activation_checkpointing_keeps_the_gradients():
    tiny = tiny_mit_daformer_cfg()
    torch.manual_seed(0)
    plain = MODELS.build(tiny['backbone'])
    cp = MODELS.build(dict(tiny['backbone'], with_cp=True))
    cp.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 32, 32)
    for net in (plain, cp):
        sum(f.square().mean() for f in net(x)).backward()
    for (name, a), b in zip(plain.named_parameters(), cp.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def _lrs(cfg, steps):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([param], lr=cfg.optim_wrapper.optimizer.lr)
    kinds = dict(LinearLR=LinearLR, PolyLR=PolyLR)
    scheds = [kinds[s['type']](opt, **{k: v for k, v in s.items()
                                       if k != 'type'})
              for s in cfg.param_scheduler]
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]['lr'])
        opt.step()
        for s in scheds:
            s.step()
    return out


@pytest.mark.parametrize('path, base_lr, iters, warmup', [
    (SINGLE, 6e-5, 40000, 1500),
    ('configs/fdacl/daformer_mit-b5_4xb2-10k_gta5-512x512_cityscapes-512x512.py',
     2.4e-4, 10000, 375),
])
def test_schedule_is_mmcv_poly_with_linear_warmup(path, base_lr, iters,
                                                  warmup):
    cfg = Config.fromfile(osp.join(ROOT, path))
    assert cfg.train_cfg.max_iters == iters
    ours = _lrs(cfg, iters)
    for i in list(range(0, 2 * warmup, 7)) + list(range(0, iters, 997)) + [
            iters - 1]:
        # mmcv 1.x: poly over all iterations, times the linear warm-up
        # factor 1 - (1 - i / warmup) * (1 - ratio) while i < warmup.
        poly = base_lr * (1 - i / iters)
        warm = 1 - (1 - i / warmup) * (1 - 1e-6) if i < warmup else 1.0
        assert ours[i] == pytest.approx(poly * warm, rel=1e-9, abs=1e-15), i


def test_optimizer_groups_follow_daformer():
    cfg = Config.fromfile(osp.join(ROOT, SINGLE))
    keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    tiny = tiny_mit_daformer_cfg()
    model = MODELS.build(dict(type='EncoderDecoder', **tiny))
    from mmengine.optim import build_optim_wrapper
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=cfg.optim_wrapper.optimizer,
        paramwise_cfg=dict(custom_keys=keys)))
    groups = {id(p): g for g in wrapper.optimizer.param_groups
              for p in g['params']}
    for name, p in model.named_parameters():
        g = groups[id(p)]
        head = name.startswith('decode_head.')
        assert g['lr'] == pytest.approx(6e-5 * (10 if head else 1)), name
        # DAFormer (SegFormer's MiT): no decay on LayerNorms, including the
        # stage norms MMSeg names layers.<i>.2; the head's BN ('bn') decays.
        is_norm = isinstance(model.get_submodule(name.rsplit('.', 1)[0]),
                             torch.nn.LayerNorm)
        expected = 0.0 if is_norm and not head else 0.01
        assert g['weight_decay'] == pytest.approx(expected), name


_O = '_gta5-512x512_cityscapes-512x512.py'


def test_deeplabv2_online_configs_use_daformers_deeplabv2():
    for method in ('daformer-recipe_1xb2-40k', 'mic_1xb2-40k',
                   'fda-cl-online_1xb2-40k'):
        cfg = Config.fromfile(osp.join(
            ROOT, f'configs/fdacl/deeplabv2_r101-d8_{method}{_O}'))
        net, head = cfg.model.backbone, cfg.model.decode_head
        assert net.type == 'ResNetV1c' and net.depth == 101, method
        assert net.norm_cfg.requires_grad and not net.norm_eval, method
        assert cfg.model.pretrained == 'checkpoints/resnet101_v1c.pth'
        assert cfg.model.data_preprocessor.bgr_to_rgb, method
        assert cfg.model.data_preprocessor.std == [58.395, 57.12, 57.375]
        assert head.dilations == 'deeplabv2red', method
        assert head.loss_decode.type == 'CrossEntropyLoss', method
    mic = Config.fromfile(osp.join(
        ROOT, f'configs/fdacl/deeplabv2_r101-d8_mic_1xb2-40k{_O}'))
    assert mic.model.mask == dict(block_size=32, ratio=0.7, augment=True)
    dacs = Config.fromfile(osp.join(
        ROOT, f'configs/fdacl/deeplabv2_r101-d8_dacs_1xb2-250k{_O}'))
    assert dacs.model.backbone.type == 'DeepLabV2ResNet'
    assert dacs.model.decode_head.dilations == 'deeplabv2red'
