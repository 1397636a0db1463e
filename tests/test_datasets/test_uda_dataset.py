"""Tests of UDADataset (pairing, label-space checks, pseudo labels)."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.dataset import DefaultSampler, pseudo_collate
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS
from torch.utils.data import DataLoader

from mmseg_fdacl.datasets import UDADataset
from mmseg_fdacl.utils import pseudo_label_path
from tests.helpers import make_cityscapes_tree, make_gta5_tree

SIZE = (32, 64)


def _source_cfg(root, **kw):
    cfg = dict(
        type='BaseSegDataset',
        metainfo=CityscapesDataset.METAINFO,
        data_root=root,
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        img_suffix='.png',
        seg_map_suffix='_labelTrainIds.png',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='RandomCrop', crop_size=(24, 48)),
            dict(type='PackSegInputs')
        ])
    cfg.update(kw)
    return cfg


def _target_cfg(root, pseudo=False, **kw):
    pipeline = [dict(type='LoadImageFromFile')]
    if pseudo:
        pipeline.append(dict(type='LoadPseudoLabel'))
    pipeline += [
        dict(type='RandomCrop', crop_size=(24, 48)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs')
    ]
    cfg = dict(
        type='CityscapesDataset',
        data_root=root,
        data_prefix=dict(img_path='leftImg8bit/train'),
        pipeline=pipeline)
    cfg.update(kw)
    return cfg


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp('uda')
    src = make_gta5_tree(str(root / 'gta5'), num=6, size=SIZE, seed=0)
    trg = make_cityscapes_tree(
        str(root / 'cityscapes'), splits=(('train', 4), ), size=SIZE, seed=1)
    return src, trg


def _write_pseudo_labels(trg_root, out_dir, value=3, skip_last=False):
    img_root = osp.join(trg_root, 'leftImg8bit', 'train')
    paths = []
    for dirpath, _, files in os.walk(img_root):
        for f in sorted(files):
            paths.append(osp.join(dirpath, f))
    paths.sort()
    if skip_last:
        paths = paths[:-1]
    for p in paths:
        out = pseudo_label_path(p, img_root, out_dir)
        os.makedirs(osp.dirname(out), exist_ok=True)
        label = np.full(SIZE, value, np.uint8)
        label[:, :8] = 255
        cv2.imwrite(out, label)
    return out_dir


def test_item_layout_and_length(trees):
    src, trg = trees
    ds = DATASETS.build(
        dict(type='UDADataset', source=_source_cfg(src),
             target=_target_cfg(trg)))
    assert isinstance(ds, UDADataset)
    assert len(ds) == 6
    item = ds[2]
    assert set(item) == {'inputs', 'data_samples', 'target_inputs',
                         'target_data_samples'}
    assert item['inputs'].shape == (3, 24, 48)
    assert item['target_inputs'].shape == (3, 24, 48)
    assert 'gt_sem_seg' in item['data_samples']
    assert 'gt_sem_seg' not in item['target_data_samples']
    assert 'leftImg8bit' in item['target_data_samples'].img_path
    assert ds.metainfo['classes'] == CityscapesDataset.METAINFO['classes']


def test_pairing_is_pure_and_reproducible(trees):
    src, trg = trees
    a = UDADataset(source=_source_cfg(src), target=_target_cfg(trg), seed=3)
    b = UDADataset(source=_source_cfg(src), target=_target_cfg(trg), seed=3)
    pairs_a = [a.target_index(i) for i in range(len(a))]
    assert pairs_a == [b.target_index(i) for i in range(len(b))]
    assert all(0 <= t < 4 for t in pairs_a)
    # another epoch or seed gives another pairing over the whole set
    epochs = {tuple(a.target_index(i, epoch=e) for i in range(6))
              for e in range(6)}
    assert len(epochs) > 1
    # restoring the state restores the pairing
    a.set_epoch(5)
    state = a.state_dict()
    b.load_state_dict(state)
    assert [a.target_index(i) for i in range(6)] == \
        [b.target_index(i) for i in range(6)]
    seq = UDADataset(source=_source_cfg(src), target=_target_cfg(trg),
                     pairing='sequential')
    assert [seq.target_index(i) for i in range(6)] == [0, 1, 2, 3, 0, 1]
    seq.set_epoch(1)
    assert seq.target_index(0) == 6 % 4


def test_workers_see_the_same_pairs(trees):
    src, trg = trees
    ds = UDADataset(source=_source_cfg(src), target=_target_cfg(trg), seed=1)
    loader = DataLoader(ds, batch_size=2, num_workers=2,
                        sampler=DefaultSampler(ds, shuffle=True, seed=0),
                        collate_fn=pseudo_collate)
    seen = {}
    for batch in loader:
        for s, t in zip(batch['data_samples'], batch['target_data_samples']):
            seen[s.img_path] = t.img_path
    assert len(seen) == 6
    for i in range(len(ds)):
        s_path = ds.source.get_data_info(i)['img_path']
        t_path = ds.target.get_data_info(ds.target_index(i))['img_path']
        assert seen[s_path] == t_path


def test_label_space_mismatch_is_named(trees):
    src, trg = trees
    meta = dict(CityscapesDataset.METAINFO)
    meta['classes'] = tuple(meta['classes'][:18]) + ('tram', )
    with pytest.raises(ValueError, match='classes.*tram'):
        UDADataset(source=_source_cfg(src, metainfo=meta),
                   target=_target_cfg(trg))
    with pytest.raises(ValueError, match='ignore_index.*0'):
        UDADataset(source=_source_cfg(src, ignore_index=0),
                   target=_target_cfg(trg))
    with pytest.raises(ValueError, match='pairing'):
        UDADataset(source=_source_cfg(src), target=_target_cfg(trg),
                   pairing='shuffle')


def test_pseudo_labels(trees, tmp_path):
    src, trg = trees
    pl = _write_pseudo_labels(trg, str(tmp_path / 'pl'), value=7)
    ds = UDADataset(source=_source_cfg(src), target=_target_cfg(trg, True),
                    pseudo_label_dir=pl)
    item = ds[0]
    seg = item['target_data_samples'].gt_sem_seg.data
    assert seg.shape == (1, 24, 48)
    assert set(seg.unique().tolist()) <= {7, 255}
    assert (seg == 7).any()


def test_pseudo_labels_follow_crops_and_flips(trees, tmp_path):
    src, trg = trees
    img_root = osp.join(trg, 'leftImg8bit', 'train')
    out_dir = str(tmp_path / 'pl_from_image')
    for dirpath, _, files in os.walk(img_root):
        for f in files:
            img = cv2.imread(osp.join(dirpath, f))
            # a label that is a function of the pixel, so any misalignment
            # between image and label after crop/flip shows up
            label = np.where(img[..., 0] >= 128, 1, 2).astype(np.uint8)
            out = pseudo_label_path(osp.join(dirpath, f), img_root, out_dir)
            os.makedirs(osp.dirname(out), exist_ok=True)
            cv2.imwrite(out, label)
    ds = UDADataset(source=_source_cfg(src), target=_target_cfg(trg, True),
                    pseudo_label_dir=out_dir)
    flips = set()
    for i in range(len(ds)):
        for _ in range(3):
            item = ds[i]
            img = item['target_inputs'][0]
            seg = item['target_data_samples'].gt_sem_seg.data[0]
            expect = (img >= 128).long() * -1 + 2
            assert (seg == expect).all()
            flips.add(item['target_data_samples'].flip)
    assert flips == {True, False}


def test_missing_pseudo_label_is_named(trees, tmp_path):
    src, trg = trees
    pl = _write_pseudo_labels(trg, str(tmp_path / 'pl'), skip_last=True)
    with pytest.raises(FileNotFoundError,
                       match=r'aachen_000000_000003_leftImg8bit.*'
                       r'generate_pseudo_labels'):
        UDADataset(source=_source_cfg(src), target=_target_cfg(trg, True),
                   pseudo_label_dir=pl)
    ds = UDADataset(source=_source_cfg(src), target=_target_cfg(trg, True))
    with pytest.raises(FileNotFoundError, match='generate_pseudo_labels'):
        ds.set_pseudo_label_dir(str(tmp_path / 'nowhere'))
    # the pipeline must load them
    with pytest.raises(ValueError, match='LoadPseudoLabel'):
        UDADataset(source=_source_cfg(src), target=_target_cfg(trg),
                   pseudo_label_dir=pl)
    # a pipeline with LoadPseudoLabel but no folder says what to set
    with pytest.raises(KeyError, match='pseudo_label_dir'):
        ds[0]


def test_pass_numbered_indices_vary_the_pairing(trees):
    """The sampler numbers its passes, so each pass gets a new pairing."""
    from mmseg_fdacl.datasets.samplers import ResumableInfiniteSampler
    src, trg = trees
    ds = UDADataset(source=_source_cfg(src), target=_target_cfg(trg), seed=3)
    sampler = ResumableInfiniteSampler(ds, shuffle=True, seed=0)
    stream = iter(sampler)
    indices = [next(stream) for _ in range(3 * len(ds))]
    # pass p yields a permutation of p*len .. (p+1)*len-1
    for p in range(3):
        chunk = indices[p * len(ds):(p + 1) * len(ds)]
        assert sorted(chunk) == list(range(p * len(ds), (p + 1) * len(ds)))
    item = ds[len(ds) + 2]  # source sample 2 in pass 1
    assert item['data_samples'].img_path == ds[2]['data_samples'].img_path
    expected = ds.target.get_data_info(ds.target_index(2, epoch=1))['img_path']
    assert item['target_data_samples'].img_path == expected
    partners = {ds.target_index(i, epoch=e) for e in range(3) for i in [2]}
    assert len(partners) > 1
    # a plain dataset keeps mmengine's plain indices
    plain = ResumableInfiniteSampler(ds.source, shuffle=True, seed=0)
    stream = iter(plain)
    assert max(next(stream) for _ in range(3 * len(ds))) < len(ds)


def test_pseudo_labels_of_another_label_space_are_refused(trees, tmp_path):
    import json
    src, trg = trees
    pl = _write_pseudo_labels(trg, str(tmp_path / 'pl'))
    classes = list(CityscapesDataset.METAINFO['classes'])
    with open(osp.join(pl, 'manifest.json'), 'w') as f:
        json.dump(dict(classes=classes[:16], complete=True), f)
    with pytest.raises(ValueError, match='made for 16 classes.*has 19'):
        UDADataset(source=_source_cfg(src), target=_target_cfg(trg, True),
                   pseudo_label_dir=pl)
    with open(osp.join(pl, 'manifest.json'), 'w') as f:
        json.dump(dict(classes=classes, complete=True), f)
    ds = UDADataset(source=_source_cfg(src), target=_target_cfg(trg, True),
                    pseudo_label_dir=pl)
    values = set(ds[0]['target_data_samples'].gt_sem_seg.data.unique().tolist())
    assert values and values <= {3, 255}
