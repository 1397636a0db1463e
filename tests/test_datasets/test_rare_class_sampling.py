"""Tests of rare class sampling (functional forms and UDADataset's option)."""
import json
import math
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

from mmseg_fdacl.datasets import UDADataset
from mmseg_fdacl.datasets.gta5 import convert_gta5_labels
from mmseg_fdacl.datasets.label_ids import TRAIN_ID_TO_LABEL_ID
from mmseg_fdacl.datasets.rare_class_sampling import (
    RareClassSampler, check_rare_class_sampling, draw_rare_class_sample,
    rare_class_candidates, rare_class_crop, rare_class_probabilities)
from mmseg_fdacl.datasets.samplers import ResumableInfiniteSampler
from tests.helpers import make_cityscapes_tree

SIZE = (32, 64)
NUM_SRC = 8
ROAD, SKY, TRAIN, BICYCLE = 0, 10, 16, 18
# Source images: road everywhere, plus sky (images 0-5, 1024 px), a train
# (image 6, 128 px) or a bicycle (image 7, 128 px, top-left corner).
BLOCKS = [(SKY, (slice(16, 32), slice(0, 64)))] * 6 + [
    (TRAIN, (slice(24, 32), slice(48, 64))),
    (BICYCLE, (slice(0, 8), slice(0, 16))),
]
MIN_PIXELS = 64


def _make_source_tree(root):
    """A GTA5 tree with known labels, converted by the real converter."""
    os.makedirs(osp.join(root, 'images'))
    os.makedirs(osp.join(root, 'labels'))
    rng = np.random.default_rng(0)
    for i, (cls, where) in enumerate(BLOCKS):
        train_ids = np.full(SIZE, ROAD, np.uint8)
        train_ids[where] = cls
        label_ids = np.asarray(TRAIN_ID_TO_LABEL_ID, np.uint8)[train_ids]
        name = f'{i + 1:05d}.png'
        cv2.imwrite(osp.join(root, 'labels', name), label_ids)
        img = rng.integers(0, 255, SIZE + (3, ), dtype=np.uint8)
        cv2.imwrite(osp.join(root, 'images', name), img)
    convert_gta5_labels(root)
    return root


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp('rcs')
    src = _make_source_tree(str(root / 'gta5'))
    trg = make_cityscapes_tree(
        str(root / 'cityscapes'), splits=(('train', 4), ), size=SIZE, seed=1)
    return src, trg


def _source_cfg(root, crop=True, **kw):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    if crop:
        pipeline.append(dict(type='RandomCrop', crop_size=(24, 48)))
    pipeline.append(dict(type='PackSegInputs'))
    return dict(type='GTA5Dataset', data_root=root, pipeline=pipeline, **kw)


def _target_cfg(root):
    return dict(
        type='CityscapesDataset',
        data_root=root,
        data_prefix=dict(img_path='leftImg8bit/train'),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackSegInputs')])


def _dataset(trees, rcs=None, crop=True, **kw):
    src, trg = trees
    if rcs is None:
        rcs = dict(min_pixels=MIN_PIXELS)
    return UDADataset(source=_source_cfg(src, crop), target=_target_cfg(trg),
                      rare_class_sampling=None if rcs is False else rcs,
                      **kw)


# -- functional forms -----------------------------------------------------
def test_probabilities_match_hand_computation():
    counts = [600, 300, 90, 10, 0]
    temperature = 0.05
    total = sum(counts)
    logits = [(1 - n / total) / temperature for n in counts]
    expect = [math.exp(v) for v in logits]
    expect = [v / sum(expect) for v in expect]
    np.testing.assert_allclose(
        rare_class_probabilities(counts, temperature), expect, rtol=1e-12)
    # a class without candidates gets 0, the rest is renormalized
    available = [True, True, True, True, False]
    kept = [math.exp(v) for v in logits[:4]]
    expect = [v / sum(kept) for v in kept] + [0.0]
    probs = rare_class_probabilities(counts, temperature, available)
    np.testing.assert_allclose(probs, expect, rtol=1e-12)
    # the default temperature 0.01 does not overflow
    probs = rare_class_probabilities(counts, available=available)
    assert np.isfinite(probs).all() and abs(probs.sum() - 1) < 1e-12
    assert probs[3] > 0.99
    with pytest.raises(ValueError, match='temperature.*0'):
        rare_class_probabilities(counts, 0)
    with pytest.raises(ValueError, match='positive sum'):
        rare_class_probabilities([0, 0])


def test_candidates_need_min_pixels():
    # More than min_pixels, as DAFormer: an image with exactly 3000 pixels of
    # class 0 is not a candidate for it.
    per_image = np.array([[5000, 2999, 0], [3001, 10, 0], [3000, 4000, 0]])
    cands = rare_class_candidates(per_image, 3000)
    assert [c.tolist() for c in cands] == [[0, 1], [2], []]
    with pytest.raises(ValueError, match='min_pixels.*0'):
        rare_class_candidates(per_image, 0)


def _gta_like_stats(seed=0, num=100):
    """Per-image counts: common classes everywhere, class 16 in 3 images."""
    rng = np.random.default_rng(seed)
    per_image = np.zeros((num, 19), np.int64)
    for c, share in [(0, 0.35), (1, 0.08), (2, 0.2), (8, 0.15), (10, 0.1)]:
        per_image[:, c] = rng.integers(0.5e5, 1.5e5, num) * share * 10
    for c in range(3, 19):
        if c in (8, 10, 16):
            continue
        holders = rng.random(num) < rng.uniform(0.1, 0.6)
        per_image[holders, c] = rng.integers(500, 40000, holders.sum())
    per_image[[4, 40, 77], 16] = [3500, 9000, 20000]
    per_image[[12, 50], 16] = [1000, 2999]  # too few pixels to count
    return per_image


def test_rare_class_share_over_many_draws():
    per_image = _gta_like_stats()
    sampler = RareClassSampler(per_image, temperature=0.01, min_pixels=3000)
    n = 20000
    draws = [sampler.draw(0, 0, i) for i in range(n)]
    classes = np.array([c for c, _ in draws])
    images = np.array([i for _, i in draws])
    # every draw is a candidate of its class
    assert all(per_image[i, c] >= 3000 for c, i in draws)
    # the classes follow p within 4 binomial standard deviations
    p = sampler.probs
    seen = np.bincount(classes, minlength=19) / n
    assert (np.abs(seen - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-9).all()
    # the share of images holding the rare class is the configured rate:
    # sum over classes of p_c * (share of c's candidates that hold it)
    holders = set(sampler.candidates[16].tolist())
    rate = sum(
        p[c] * np.mean([i in holders for i in cands])
        for c, cands in enumerate(sampler.candidates) if len(cands))
    share = np.isin(images, list(holders)).mean()
    assert abs(share - rate) <= 4 * math.sqrt(rate * (1 - rate) / n)
    # far above uniform sampling (3 of 100 images)
    assert share > 0.1 and rate > 0.1


def test_draw_is_a_function_of_the_generator():
    probs = np.array([0.2, 0.0, 0.8])
    cands = [np.array([3, 4]), np.array([], int), np.array([7])]
    a = [draw_rare_class_sample(np.random.default_rng(5), probs, cands)
         for _ in range(3)]
    assert len(set(a)) == 1
    draws = {draw_rare_class_sample(np.random.default_rng(s), probs, cands)
             for s in range(200)}
    assert draws == {(0, 3), (0, 4), (2, 7)}


def test_rare_class_crop_retries_until_enough_pixels():
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData

    def loader(counts):
        calls = []

        def load():
            n = counts[min(len(calls), len(counts) - 1)]
            calls.append(n)
            seg = torch.zeros(1, 10, 10, dtype=torch.long)
            seg.view(-1)[:n] = 3
            sample = SegDataSample(gt_sem_seg=PixelData(data=seg))
            return dict(inputs=None, data_samples=sample)
        return load, calls

    load, calls = loader([0, 5, 20, 0])
    rare_class_crop(load, 3, 10)
    assert calls == [0, 5, 20]
    load, calls = loader([0])
    rare_class_crop(load, 3, 10)
    assert len(calls) == 11  # the first crop and 10 more, as DAFormer
    load, calls = loader([0])
    rare_class_crop(load, 3, 0)
    assert calls == [0]
    with pytest.raises(KeyError, match='gt_sem_seg.*min_crop_ratio=0'):
        rare_class_crop(lambda: dict(inputs=None), 3, 10)


# -- UDADataset option ----------------------------------------------------
def test_dataset_reads_the_converter_stats(trees, monkeypatch):
    logged = []
    monkeypatch.setattr('mmseg_fdacl.datasets.uda_dataset.print_log',
                        lambda msg, **kw: logged.append(msg))
    ds = _dataset(trees)
    sampler = ds.rare_class_sampler
    counts = np.zeros(19)
    for cls, where in BLOCKS:
        n = np.zeros(SIZE, bool)
        n[where] = True
        counts[cls] += n.sum()
        counts[ROAD] += (~n).sum()
    available = np.isin(np.arange(19), [ROAD, SKY, TRAIN, BICYCLE])
    np.testing.assert_allclose(
        sampler.probs, rare_class_probabilities(counts, 0.01, available))
    assert sampler.candidates[TRAIN].tolist() == [6]
    assert sampler.candidates[SKY].tolist() == list(range(6))
    # logged once, with the class names
    assert len(logged) == 1 and 'bicycle: 0.' in logged[0]
    # train and bicycle are equally rare and take nearly all draws
    drawn = [ds.source_index(i, epoch=e) for e in range(20)
             for i in range(len(ds))]
    assert set(drawn) <= {6, 7} and len(set(drawn)) == 2
    assert len(ds) == NUM_SRC
    item = ds[3]
    assert item['data_samples'].img_path == ds.source.get_data_info(
        ds.source_index(3))['img_path']
    assert item['target_data_samples'].img_path == ds.target.get_data_info(
        ds.target_index(3))['img_path']
    # absolute path and explicit settings
    src, _ = trees
    ds2 = _dataset(trees, rcs=dict(
        class_stats=osp.join(src, 'class_stats.json'), temperature=1.0,
        min_pixels=MIN_PIXELS, min_crop_ratio=0))
    assert ds2.rare_class_sampler.probs[SKY] > 0.2
    assert 'rare_class_sampling' in repr(ds2)


def test_same_draws_in_instances_workers_and_passes(trees):
    a = _dataset(trees, seed=3)
    b = _dataset(trees, seed=3)
    for e in range(3):
        assert [a.source_index(i, e) for i in range(NUM_SRC)] == \
            [b.source_index(i, e) for i in range(NUM_SRC)]
    other = _dataset(trees, seed=4)
    seq = [a.source_index(i, e) for e in range(4) for i in range(NUM_SRC)]
    assert seq != [other.source_index(i, e) for e in range(4)
                   for i in range(NUM_SRC)]
    # a pass-numbered index draws with the pass's epoch
    assert a[NUM_SRC + 2]['data_samples'].img_path == \
        a.source.get_data_info(a.source_index(2, epoch=1))['img_path']
    # loader workers draw the same images as the main process
    loader = DataLoader(a, batch_size=2, num_workers=2,
                        sampler=list(range(2 * NUM_SRC)),
                        collate_fn=pseudo_collate)
    seen = [s.img_path for batch in loader for s in batch['data_samples']]
    expect = [a.source.get_data_info(a.source_index(i % NUM_SRC,
                                                    i // NUM_SRC))['img_path']
              for i in range(2 * NUM_SRC)]
    assert seen == expect


def test_resumed_state_gives_the_same_sequence(trees):
    def stream(ds, sampler, n):
        it = iter(sampler)
        out = []
        for _ in range(n):
            passes, pos = divmod(next(it), len(ds))
            out.append(ds.source_index(pos, ds.epoch + passes))
        return out

    run = _dataset(trees, seed=1)
    run.set_epoch(2)
    full = stream(run, ResumableInfiniteSampler(run, seed=7), 3 * NUM_SRC)
    state = run.state_dict()
    assert state == dict(seed=1, epoch=2, pairing='random',
                         rare_class_sampling=dict(
                             temperature=0.01, min_pixels=MIN_PIXELS,
                             min_crop_ratio=0.5))
    resumed = _dataset(trees, seed=0)
    resumed.load_state_dict(state)
    sampler = ResumableInfiniteSampler(resumed, seed=7)
    sampler.set_start_index(NUM_SRC + 3)
    assert stream(resumed, sampler, 2 * NUM_SRC - 3) == full[NUM_SRC + 3:]
    # another RCS setting, or none, cannot resume this run exactly
    with pytest.raises(ValueError, match='rare_class_sampling.*temperature'):
        _dataset(trees, rcs=dict(min_pixels=MIN_PIXELS, temperature=0.1)
                 ).load_state_dict(state)
    with pytest.raises(ValueError, match='rare_class_sampling'):
        _dataset(trees, rcs=False).load_state_dict(state)
    with pytest.raises(ValueError, match='rare_class_sampling'):
        run.load_state_dict(dict(seed=1, epoch=2, pairing='random'))


def test_rare_class_aware_crop(trees):
    """Crops of the corner bicycle hold >= 0.5 * min_pixels of it."""
    def bicycle_share(ds):
        sampler, ok = ds.rare_class_sampler, []
        for e in range(30):
            for i in range(NUM_SRC):
                if sampler.draw(ds.seed, e, i)[0] == BICYCLE:
                    seg = ds[e * NUM_SRC + i]['data_samples'].gt_sem_seg.data
                    ok.append(int((seg == BICYCLE).sum()) >= MIN_PIXELS / 2)
                if len(ok) == 40:
                    return np.mean(ok)

    np.random.seed(0)  # the crop offsets come from numpy's global state
    with_crop = bicycle_share(_dataset(trees))
    np.random.seed(0)
    without = bicycle_share(_dataset(trees, rcs=dict(
        min_pixels=MIN_PIXELS, min_crop_ratio=0)))
    # about 40% of the 24x48 crops of a 32x64 image hold 32 px of the 8x16
    # corner block; 11 tries make that about 99.7%
    assert with_crop >= 0.95 and without <= 0.7


def test_bad_stats_are_named(trees, tmp_path):
    src, _ = trees
    with pytest.raises(FileNotFoundError,
                       match=r'nowhere\.json.*tools/dataset_converters/'
                       r'gta5\.py'):
        _dataset(trees, rcs=dict(class_stats=str(tmp_path / 'nowhere.json')))
    with open(osp.join(src, 'class_stats.json')) as f:
        stats = json.load(f)

    def write(name, content):
        path = str(tmp_path / name)
        with open(path, 'w') as f:
            f.write(content if isinstance(content, str) else
                    json.dumps(content))
        return dict(class_stats=path, min_pixels=MIN_PIXELS)

    short = dict(stats, classes=stats['classes'][:18])
    with pytest.raises(ValueError, match='made for 18 classes.*has 19.*gta5'):
        _dataset(trees, rcs=write('short.json', short))
    missing = dict(stats, per_image={
        k: v for k, v in stats['per_image'].items() if k != '00003.png'})
    with pytest.raises(ValueError,
                       match=r'00003_labelTrainIds\.png.*rerun.*gta5\.py'):
        _dataset(trees, rcs=write('missing.json', missing))
    rows = dict(stats, per_image={
        k: v[:18] for k, v in stats['per_image'].items()})
    with pytest.raises(ValueError, match=r"per_image\['00001.png'\].*19"):
        _dataset(trees, rcs=write('rows.json', rows))
    with pytest.raises(ValueError, match='not a class_stats.json'):
        _dataset(trees, rcs=write('broken.json', '{"classes": '))
    with pytest.raises(ValueError, match='min_pixels.*lower'):
        _dataset(trees, rcs=dict(min_pixels=10**6))
    # the settings fail at build time, even with lazy_init
    for bad, pattern in [(dict(temp=0.01), r"unknown key.*\['temp'\]"),
                         (dict(temperature=0), 'temperature.*> 0'),
                         (dict(min_pixels=2.5), 'min_pixels.*int'),
                         (dict(min_crop_ratio=-1), 'min_crop_ratio.*>= 0')]:
        with pytest.raises(ValueError, match=pattern):
            _dataset(trees, rcs=bad, lazy_init=True)
    assert check_rare_class_sampling({}) == dict(
        class_stats='class_stats.json', temperature=0.01, min_pixels=3000,
        min_pixels_fraction=None, min_crop_ratio=0.5)


def test_off_leaves_the_dataset_unchanged(trees):
    ds = _dataset(trees, rcs=False, crop=False, seed=2)
    assert ds.rare_class_sampling is None and ds.rare_class_sampler is None
    assert ds.state_dict() == dict(seed=2, epoch=0, pairing='random')
    assert 'rare_class_sampling' not in repr(ds)
    ds.set_epoch(3)
    for i in range(NUM_SRC):
        assert ds.source_index(i) == i
        assert ds[i]['data_samples'].img_path == \
            ds.source.get_data_info(i)['img_path']
        assert ds[NUM_SRC + i]['data_samples'].img_path == \
            ds.source.get_data_info(i)['img_path']
    ds.load_state_dict(dict(seed=5, epoch=1, pairing='random'))
    assert ds.state_dict() == dict(seed=5, epoch=1, pairing='random')
