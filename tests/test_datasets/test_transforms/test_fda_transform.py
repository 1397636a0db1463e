"""Tests of the FDA pipeline transform."""
import os.path as osp

import cv2
import mmcv
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmseg.registry import TRANSFORMS

from mmseg_fdacl.datasets.transforms import FDA
from mmseg_fdacl.fda import fda_amplitude_swap_np
from tests.helpers import make_cityscapes_tree, make_gta5_tree


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp('fda_trees')
    cs = make_cityscapes_tree(str(root / 'cityscapes'), size=(32, 64))
    gta = make_gta5_tree(str(root / 'gta5'), num=3, size=(32, 64))
    return cs, gta


def _img(seed=0, size=(32, 64)):
    return np.random.default_rng(seed).integers(
        0, 256, size=(*size, 3), dtype=np.uint8)


def test_folder_pool_and_exact_result(trees):
    cs, _ = trees
    folder = osp.join(cs, 'leftImg8bit', 'train')
    t = TRANSFORMS.build(dict(type='FDA', reference=folder, beta=0.09, seed=0))
    assert isinstance(t, FDA) and len(t.ref_paths) == 4
    img = _img()
    out = t(dict(img=img.copy()))
    assert out['img'].dtype == np.float32 and out['img'].shape == img.shape
    assert out['fda_beta'] == 0.09 and out['fda_ref_path'] in t.ref_paths
    ref = mmcv.imread(out['fda_ref_path'])  # BGR, like LoadImageFromFile
    expected = fda_amplitude_swap_np(img, ref, 0.09, clip=True)
    np.testing.assert_allclose(out['img'], expected, atol=1e-3)
    assert out['img'].min() >= 0 and out['img'].max() <= 255
    assert 'FDA(' in repr(t) and 'num_refs=4' in repr(t)


def test_suffix_list_file_and_dataset_pools(trees, tmp_path):
    cs, gta = trees
    t = FDA(reference=cs, ref_suffix='_leftImg8bit.png')
    assert len(t.ref_paths) == 6  # train + val images, no label maps
    lst = tmp_path / 'refs.txt'
    lst.write_text('\n'.join(
        [osp.relpath(p, tmp_path) for p in t.ref_paths[:2]]) + '\n\n')
    assert [osp.realpath(p) for p in FDA(reference=str(lst)).ref_paths
            ] == [osp.realpath(p) for p in t.ref_paths[:2]]
    assert FDA(reference=t.ref_paths[:3]).ref_paths == t.ref_paths[:3]
    t = FDA(
        reference=dict(
            type='GTA5Dataset', data_root=gta,
            data_prefix=dict(img_path='images', seg_map_path='labels'),
            pipeline=[dict(type='LoadImageFromFile')]))
    assert len(t.ref_paths) == 3
    assert all(
        osp.isfile(p) and osp.dirname(p) == osp.join(gta, 'images')
        for p in t.ref_paths)
    assert t(dict(img=_img()))['fda_ref_path'] in t.ref_paths


def test_reproducible_and_seed_dependent(trees):
    cs, _ = trees
    folder = osp.join(cs, 'leftImg8bit')
    betas = [0.01, 0.05, 0.09]

    def run(seed):
        t = FDA(reference=folder, beta=betas, prob=0.7, seed=seed)
        outs = [t(dict(img=_img(i))) for i in range(12)]
        return [(o['fda_beta'], o['fda_ref_path']) for o in outs], outs

    a, outs_a = run(3)
    b, outs_b = run(3)
    c, _ = run(4)
    assert a == b and a != c
    for x, y in zip(outs_a, outs_b):
        np.testing.assert_array_equal(x['img'], y['img'])
    assert {beta for beta, _ in a} <= set(betas) | {0.0}


def test_worker_streams_differ(trees, monkeypatch):
    cs, _ = trees
    t = FDA(reference=osp.join(cs, 'leftImg8bit'), beta=[0.01, 0.05, 0.09],
            seed=0)
    draws = {}
    for worker in (0, 1):
        info = type('Info', (), {'id': worker})()
        monkeypatch.setattr(torch.utils.data, 'get_worker_info',
                            lambda info=info: info)
        draws[worker] = [(o['fda_beta'], o['fda_ref_path'])
                         for o in (t(dict(img=_img())) for _ in range(8))]
    assert draws[0] != draws[1]


def test_prob(trees):
    folder = osp.join(trees[0], 'leftImg8bit', 'val')
    img = _img(size=(8, 16))
    t = FDA(reference=folder, prob=0.0, seed=0)
    out = t(dict(img=img))
    assert out['img'] is img and out['fda_beta'] == 0.0
    assert out['fda_ref_path'] is None
    t = FDA(reference=folder, prob=0.5, seed=0)
    applied = [t(dict(img=img))['fda_ref_path'] is not None
               for _ in range(200)]
    assert 70 < sum(applied) < 130


def test_unseeded_uses_numpy_global_rng(trees):
    folder = osp.join(trees[0], 'leftImg8bit')
    t = FDA(reference=folder, beta=[0.01, 0.09], prob=0.5)
    np.random.seed(1)
    a = [t(dict(img=_img(size=(8, 8))))['fda_ref_path'] for _ in range(6)]
    np.random.seed(1)
    b = [t(dict(img=_img(size=(8, 8))))['fda_ref_path'] for _ in range(6)]
    assert a == b


def test_other_size_float_and_clip_off(trees):
    folder = osp.join(trees[0], 'leftImg8bit', 'train')
    img = _img(size=(20, 30)).astype(np.float64)
    out = FDA(reference=folder, beta=0.1, clip=False, seed=0)(dict(img=img))
    ref = mmcv.imread(out['fda_ref_path'])
    assert ref.shape[:2] != img.shape[:2]
    expected = fda_amplitude_swap_np(img, ref, 0.1)  # cv2 bilinear resize
    assert out['img'].dtype == np.float32
    np.testing.assert_allclose(out['img'], expected, atol=0.05)


def test_grayscale_pipeline_with_mmseg_rgb2gray(trees):
    # Grayscale training needs no own transform: MMSeg's RGB2Gray gives a
    # 3-channel gray image (weights in BGR order for cv2-loaded images), and
    # FDA with grayscale references keeps it gray.
    cs, _ = trees
    img_path = FDA(reference=osp.join(cs, 'leftImg8bit', 'train')).ref_paths[0]
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='RGB2Gray', out_channels=3, weights=(0.114, 0.587, 0.299)),
        dict(type='FDA', reference=osp.join(cs, 'leftImg8bit', 'val'),
             beta=0.05, ref_color_type='grayscale', seed=0),
        dict(type='PackSegInputs',
             meta_keys=('img_path', 'img_shape', 'fda_beta', 'fda_ref_path')),
    ])
    out = pipeline(
        dict(img_path=img_path, seg_fields=[], reduce_zero_label=False))
    inputs = out['inputs']
    assert inputs.shape == (3, 32, 64)
    assert torch.equal(inputs[0], inputs[1])
    assert torch.equal(inputs[1], inputs[2])
    assert out['data_samples'].metainfo['fda_beta'] == 0.05
    gray = cv2.cvtColor(cv2.imread(img_path), cv2.COLOR_BGR2GRAY)
    ref = cv2.imread(out['data_samples'].metainfo['fda_ref_path'],
                     cv2.IMREAD_GRAYSCALE)
    expected = fda_amplitude_swap_np(
        gray.astype(np.float64), ref, 0.05, clip=True)
    # RGB2Gray's float weights vs cv2's fixed-point gray differ by < 1 level.
    assert np.abs(inputs[0].numpy() - expected).max() < 1.5


def test_colour_reference_for_gray_image_is_refused(trees):
    t = FDA(reference=osp.join(trees[0], 'leftImg8bit', 'val'))
    with pytest.raises(ValueError, match='ref_color_type'):
        t(dict(img=_img()[..., 0]))
    out = FDA(reference=osp.join(trees[0], 'leftImg8bit', 'val'),
              ref_color_type='grayscale')(dict(img=_img()[..., 0]))
    assert out['img'].shape == (32, 64)


@pytest.mark.parametrize('kwargs, exc, match', [
    (dict(beta=0.6), ValueError, 'beta'),
    (dict(beta=[0.01, -1]), ValueError, 'beta'),
    (dict(beta=[]), ValueError, 'beta'),
    (dict(prob=1.5), ValueError, 'prob'),
    (dict(prob='1'), ValueError, 'prob'),
    (dict(seed=-1), ValueError, 'seed'),
    (dict(ref_color_type='rgb'), ValueError, 'ref_color_type'),
    (dict(ref_suffix='.jpg'), ValueError, 'empty'),
])
def test_bad_arguments(trees, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        FDA(reference=osp.join(trees[0], 'leftImg8bit'), **kwargs)


def test_bad_pools(tmp_path):
    with pytest.raises(FileNotFoundError, match='no_such_dir'):
        FDA(reference=str(tmp_path / 'no_such_dir'))
    with pytest.raises(ValueError, match='empty'):
        FDA(reference=str(tmp_path))
    with pytest.raises(ValueError, match='type'):
        FDA(reference=dict(data_root=str(tmp_path)))
    with pytest.raises(TypeError, match='reference'):
        FDA(reference=3)
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'not an image')
    t = FDA(reference=[str(bad)])
    with pytest.raises(IOError, match='broken.png'):
        t(dict(img=_img()))
