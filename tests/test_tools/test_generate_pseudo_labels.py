"""tools/generate_pseudo_labels.py: ensemble, IoU table, pictures."""
import glob
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmseg_fdacl.pseudo_labels import evaluate_pseudo_labels
from mmseg_fdacl.utils import pseudo_label_path
from tests.helpers import (make_cityscapes_tree, make_gta5_tree,
                           tiny_deeplabv2_cfg)
from tests.test_apis.test_pseudo_labels import make_checkpoint, target_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'generate_pseudo_labels',
        osp.join(ROOT, 'tools', 'generate_pseudo_labels.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('tool')
    cs = make_cityscapes_tree(str(root / 'cs'), splits=(('train', 4), ))
    gta = make_gta5_tree(str(root / 'gta'), num=2)
    ckpts = [
        make_checkpoint(str(root / 'a.pth'), 0),
        make_checkpoint(str(root / 'b.pth'), 1)
    ]
    model = tiny_deeplabv2_cfg()
    model.update(
        type='UDAEncoderDecoder',
        data_preprocessor=dict(
            model['data_preprocessor'], type='UDADataPreProcessor'))
    target = target_cfg(cs)
    target['pipeline'] = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadPseudoLabel'),
        dict(type='PackSegInputs')
    ]
    cfg = dict(
        custom_imports=dict(imports=['mmseg_fdacl'],
                            allow_failed_imports=False),
        default_scope='mmseg',
        model=model,
        test_pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(32, 16), keep_ratio=True),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ],
        train_dataloader=dict(
            batch_size=1,
            dataset=dict(
                type='UDADataset',
                source=dict(type='GTA5Dataset', data_root=gta, pipeline=[]),
                target=target)))
    config = root / 'uda_cfg.py'
    config.write_text('\n'.join(f'{k} = {v!r}' for k, v in cfg.items()))
    return dict(root=root, cs=cs, ckpts=ckpts, config=str(config))


def test_tool_ensemble_table_and_pictures(setup, capsys):
    tool = _load_tool()
    out = str(setup['root'] / 'pl')
    show = str(setup['root'] / 'show')
    manifest = tool.main([
        setup['config'], *setup['ckpts'], '--out', out, '--show-dir', show,
        '--beta', '0.05', '--percentile', '0.5', '--cap', '0.8'
    ])
    printed = capsys.readouterr().out
    assert manifest['complete'] and len(manifest['checkpoints']) == 2
    assert manifest['settings']['beta'] == 0.05
    assert max(manifest['thresholds']) <= 0.8
    assert json.load(open(osp.join(out, 'manifest.json'))) == manifest
    # the IoU table, with every class and the reference-style row
    assert 'mIoU' in printed and 'coverage' in printed
    assert '| Pseudo Labels |' in printed
    for name in ('road', 'bicycle'):
        assert name in printed
    # pictures: image | ground truth | pseudo label, in the palette
    pics = sorted(glob.glob(osp.join(show, '**', '*.png'), recursive=True))
    assert len(pics) == 4
    pic = cv2.imread(pics[0])
    assert pic.shape == (32, 64 * 3, 3)
    img = cv2.imread(
        glob.glob(osp.join(setup['cs'], 'leftImg8bit', 'train', '*',
                           '*.png'))[0])
    assert pic.shape[0] == img.shape[0]

    # a second call reuses the set (nothing rewritten)
    mtime = osp.getmtime(osp.join(out, 'manifest.json'))
    tool.main([setup['config'], *setup['ckpts'], '--out', out, '--beta',
               '0.05', '--percentile', '0.5', '--cap', '0.8'])
    assert osp.getmtime(osp.join(out, 'manifest.json')) == mtime


def test_evaluate_scores_labelled_pixels_only(setup, tmp_path):
    # Hand-made pseudo labels: GT with some pixels wrong, some ignored.
    cs = setup['cs']
    img_root = osp.join(cs, 'leftImg8bit', 'train')
    rng = np.random.default_rng(0)
    inter = np.zeros(19)
    union = np.zeros(19)
    for f in sorted(glob.glob(osp.join(img_root, '*', '*.png'))):
        gt = cv2.imread(
            f.replace('leftImg8bit', 'gtFine', 1).replace(
                '_leftImg8bit.png', '_gtFine_labelTrainIds.png'),
            cv2.IMREAD_UNCHANGED)
        label = gt.copy()
        wrong = rng.random(gt.shape) < 0.2
        label[wrong] = (label[wrong] + 1) % 19
        label[rng.random(gt.shape) < 0.3] = 255
        out = pseudo_label_path(f, img_root, str(tmp_path))
        os.makedirs(osp.dirname(out), exist_ok=True)
        cv2.imwrite(out, label)
        keep = label != 255
        for c in range(19):
            p, g = (label == c) & keep, (gt == c) & keep
            inter[c] += (p & g).sum()
            union[c] += (p | g).sum()
    result = evaluate_pseudo_labels(str(tmp_path), target_cfg(cs))
    with np.errstate(invalid='ignore', divide='ignore'):
        expected = 100 * inter / union
    np.testing.assert_allclose(result['iou'], expected, atol=1e-6)
    assert abs(result['miou'] - np.nanmean(expected)) < 1e-6
    assert 65 < result['coverage'] < 75
    assert result['num_images'] == 4


def test_non_uda_config_is_a_clear_error(setup, tmp_path):
    config = tmp_path / 'plain.py'
    config.write_text("train_dataloader = dict(dataset=dict(type='X'))\n"
                      f'model = {tiny_deeplabv2_cfg()!r}\n')
    with pytest.raises(ValueError, match='UDADataset'):
        _load_tool().main(
            [str(config), setup['ckpts'][0], '--out', str(tmp_path / 'o')])
