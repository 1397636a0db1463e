"""configs/_base_/amp_bf16.py: bf16 autocast as an option of any recipe.

A leaf that merges the fragment into its recipe's optimizer wrapper gets the
guarded AMP twin in bfloat16 with the gradient scaler off, keeps the
recipe's optimizer and parameter-wise settings, and trains a step under
bf16 autocast (on a CPU through CPUAmpOptimWrapper).
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
RECIPES = [
    'deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_'
    'cityscapes-1024x512.py',
    'deeplabv2_r101-d8_mic_1xb2-40k_gta5-512x512_cityscapes-512x512.py',
]


def _leaf(tmp_path, recipe: str) -> Config:
    path = tmp_path / 'leaf_bf16.py'
    path.write_text(
        f"_base_ = ['{ROOT}/configs/fdacl/{recipe}',\n"
        f"          '{ROOT}/configs/_base_/amp_bf16.py']\n"
        'optim_wrapper = dict(_base_.amp_bf16_optim_wrapper)\n')
    return Config.fromfile(str(path))


@pytest.mark.parametrize('recipe', RECIPES)
def test_fragment_makes_the_recipes_wrapper_bf16(tmp_path, recipe):
    plain = Config.fromfile(osp.join(ROOT, 'configs', 'fdacl', recipe))
    cfg = _leaf(tmp_path, recipe)
    wrapper = cfg.optim_wrapper
    assert plain.optim_wrapper.type == 'NonFiniteGuardOptimWrapper'
    assert wrapper.type == 'NonFiniteGuardAmpOptimWrapper'
    assert wrapper.dtype == 'bfloat16'
    assert wrapper.loss_scale == dict(enabled=False)
    # everything else is the recipe's
    for key in ('optimizer', 'paramwise_cfg', 'on_non_finite'):
        assert wrapper[key] == plain.optim_wrapper[key]


def test_fragment_wrapper_trains_in_bf16(tmp_path):
    import mmseg_fdacl  # noqa: F401
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = _leaf(tmp_path, RECIPES[0])
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(),
                                torch.nn.Conv2d(4, 2, 1))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert wrapper.cast_dtype == torch.bfloat16
    assert not wrapper.loss_scaler.is_enabled()
    before = [p.detach().clone() for p in model.parameters()]
    with wrapper.optim_context(model):
        out = model(torch.randn(1, 3, 8, 8))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().mean())
    assert any(not torch.equal(a, p) for a, p in
               zip(before, model.parameters()))
