"""Tests for the backbones' shared pretrained/init_cfg rule."""
import pytest

from mmseg_fdacl.models.backbones import ENet, VGG16
from mmseg_fdacl.models.backbones.init_cfg import (DEFAULT_INIT_CFG,
                                                   resolve_init_cfg)


def test_resolve_init_cfg():
    assert resolve_init_cfg('X', None, None) == DEFAULT_INIT_CFG
    own = dict(type='Normal', std=0.01)
    assert resolve_init_cfg('X', None, own) is own
    assert resolve_init_cfg('X', 'w.pth', None) == dict(
        type='Pretrained', checkpoint='w.pth')
    with pytest.raises(ValueError, match='X: give `pretrained` or'):
        resolve_init_cfg('X', 'w.pth', own)
    with pytest.raises(TypeError, match='checkpoint path'):
        resolve_init_cfg('X', 3, None)


@pytest.mark.parametrize('cls', [ENet, VGG16])
def test_backbones_use_it(cls):
    with pytest.raises(ValueError, match=f'{cls.__name__}: give'):
        cls(pretrained='w.pth', init_cfg=dict(type='Normal'))
