"""Tests of the FDA figure library function and its command line."""
import os.path as osp
import runpy
import sys

import mmcv
import numpy as np
import pytest

from mmseg_fdacl.demo.figures import draw_fda_figure, save_fda_figure
from tests.helpers import make_cityscapes_tree, make_gta5_tree

TOOL = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'visualization', 'fda_figure.py')


def _img(seed, size=(32, 64)):
    return np.random.default_rng(seed).integers(
        0, 256, size=(*size, 3), dtype=np.uint8)


def test_draw_returns_rgb_grid_that_depends_on_inputs():
    fig = draw_fda_figure(_img(0), _img(1, (40, 50)), betas=(0.05, 0.1))
    assert fig.dtype == np.uint8 and fig.ndim == 3 and fig.shape[2] == 3
    assert fig.shape[1] > fig.shape[0]  # 5 panels side by side
    other = draw_fda_figure(_img(2), _img(1, (40, 50)), betas=(0.05, 0.1))
    assert other.shape == fig.shape and not np.array_equal(fig, other)
    wider = draw_fda_figure(_img(0), _img(1), betas=(0.01, 0.05, 0.09))
    assert wider.shape[1] > fig.shape[1]  # one more beta, one more column


def test_bad_arguments():
    with pytest.raises(ValueError, match='betas'):
        draw_fda_figure(_img(0), _img(1), betas=(0.6, ))
    with pytest.raises(ValueError, match='betas'):
        draw_fda_figure(_img(0), _img(1), betas=())
    with pytest.raises(ValueError, match='channel_order'):
        draw_fda_figure(_img(0), _img(1), channel_order='hsv')


def test_save_and_command_line(tmp_path, monkeypatch, capsys):
    out = tmp_path / 'sub' / 'fig.png'
    fig = save_fda_figure(_img(0), _img(1), str(out), betas=(0.05, ))
    np.testing.assert_array_equal(mmcv.imread(str(out), channel_order='rgb'),
                                  fig)
    src = tmp_path / 'src.png'
    trg = tmp_path / 'trg.png'
    mmcv.imwrite(_img(3), str(src))
    mmcv.imwrite(_img(4, (24, 40)), str(trg))
    cli_out = tmp_path / 'cli.png'
    monkeypatch.setattr(sys, 'argv', [
        TOOL, str(src), str(trg), '--out', str(cli_out), '--betas', '0.01',
        '0.09'
    ])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(TOOL, run_name='__main__')
    assert e.value.code == 0 and mmcv.imread(str(cli_out)) is not None
    assert 'wrote' in capsys.readouterr().out
    # --demo-root takes the first image of each domain.
    root = tmp_path / 'demo'
    make_gta5_tree(str(root / 'gta5'), num=2, size=(32, 64))
    make_cityscapes_tree(str(root / 'cityscapes'), size=(32, 64))
    demo_out = tmp_path / 'demo.png'
    monkeypatch.setattr(
        sys, 'argv',
        [TOOL, '--demo-root', str(root), '--out', str(demo_out)])
    with pytest.raises(SystemExit):
        runpy.run_path(TOOL, run_name='__main__')
    assert mmcv.imread(str(demo_out)) is not None
    monkeypatch.setattr(
        sys, 'argv',
        [TOOL, '--demo-root', str(tmp_path / 'none'), '--out', str(out)])
    with pytest.raises(FileNotFoundError, match='make_synthetic_uda'):
        runpy.run_path(TOOL, run_name='__main__')
