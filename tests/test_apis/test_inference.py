"""UDASegInferencer / infer / tools/infer.py on generated images, a folder
and a video: student and teacher weights, sliding windows, label PNGs and
overlays."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mmseg_fdacl.apis import UDASegInferencer, infer, list_inputs
from mmseg_fdacl.apis.inference import teacher_state_dict
from mmseg_fdacl.demo.custom_folders import (EXAMPLE_CLASSES,
                                             EXAMPLE_PALETTE,
                                             write_example_folders)
from tests.helpers import tiny_deeplabv2_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
META = dict(classes=list(EXAMPLE_CLASSES),
            palette=[list(c) for c in EXAMPLE_PALETTE])
STUDENT_CLASS, TEACHER_CLASS = 1, 3


def make_cfg(test_pipeline=True):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='PackSegInputs')]
    cfg = dict(
        default_scope='mmseg',
        custom_imports=dict(imports=['mmseg_fdacl'],
                            allow_failed_imports=False),
        model=tiny_deeplabv2_cfg(num_classes=5),
        visualizer=dict(type='SegLocalVisualizer',
                        vis_backends=[dict(type='LocalVisBackend')],
                        name='visualizer'))
    if test_pipeline:
        cfg['test_dataloader'] = dict(dataset=dict(
            type='CustomSegDataset', metainfo=META, pipeline=pipeline))
    else:  # a config without a test set (no labelled target split)
        cfg['test_pipeline'] = pipeline
        cfg['train_dataloader'] = dict(dataset=dict(
            type='UDADataset', source=dict(type='CustomSegDataset',
                                           metainfo=META),
            target=dict(type='CustomSegDataset', metainfo=META)))
    return Config(cfg)


def _constant(state, cls):
    """Weights whose prediction is class ``cls`` everywhere."""
    state = {k: v.clone() for k, v in state.items()}
    for k in state:
        if k.startswith('decode_head.aspp_modules'):
            state[k].zero_()
            if k.endswith('bias'):
                state[k][cls] = 5.0
    return state


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    init_default_scope('mmseg')
    model = MODELS.build(ConfigDict(tiny_deeplabv2_cfg(num_classes=5)))
    student = _constant(model.state_dict(), STUDENT_CLASS)
    teacher = _constant(model.state_dict(), TEACHER_CLASS)
    tmp = tmp_path_factory.mktemp('ckpt')
    with_teacher = str(tmp / 'online.pth')
    torch.save(dict(
        state_dict=student,
        meta=dict(dataset_meta=dict(META)),
        mean_teacher={'steps': torch.tensor(3),
                      **{'module.' + k: v for k, v in teacher.items()}}),
        with_teacher)
    plain = str(tmp / 'stage1.pth')  # no teacher, no dataset_meta
    torch.save(dict(state_dict=student, meta={}), plain)
    return with_teacher, plain


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('imgs'))
    dirs = write_example_folders(root, num_source=3, num_target=0,
                                 num_val=2, size=(32, 48))
    return dirs


def _read(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def test_teacher_state_dict_strips_the_ema_wrapper(checkpoint):
    ckpt = torch.load(checkpoint[0], weights_only=False)
    state = teacher_state_dict(ckpt)
    assert 'steps' not in state and set(state) == set(ckpt['state_dict'])
    with pytest.raises(KeyError, match='MeanTeacherHook'):
        teacher_state_dict(torch.load(checkpoint[1], weights_only=False),
                           'stage1.pth')


@pytest.mark.parametrize('weights, cls', [('student', STUDENT_CLASS),
                                          ('teacher', TEACHER_CLASS)])
def test_image_student_or_teacher(tmp_path, checkpoint, images, weights,
                                  cls):
    img = osp.join(images['source_images'], 'coast_000.jpg')
    inferencer = UDASegInferencer(make_cfg(), checkpoint[0], weights=weights,
                                  device='cpu')
    res = infer(inferencer, img, str(tmp_path), opacity=1.0)
    assert res['kind'] == 'image' and res['count'] == 1
    label = _read(str(tmp_path / 'labels' / 'coast_000.png'))
    assert label.shape == (32, 48) and (label == cls).all()
    vis = _read(str(tmp_path / 'vis' / 'coast_000.png'))
    assert vis.shape == (32, 48, 3)
    # opacity 1: the overlay is the class colour (RGB palette, BGR file)
    assert np.abs(vis[16, 24].astype(int) -
                  EXAMPLE_PALETTE[cls][::-1]).max() <= 1


def test_folder_keeps_relative_names_and_config_classes(tmp_path, checkpoint,
                                                        images):
    # the checkpoint has no dataset_meta: the config's five classes are used
    inferencer = UDASegInferencer(make_cfg(test_pipeline=False),
                                  checkpoint[1], device='cpu')
    assert inferencer.model.dataset_meta['classes'] == tuple(EXAMPLE_CLASSES)
    folder = osp.dirname(images['source_images'])  # source/{images,labels}
    res = infer(inferencer, folder, str(tmp_path), batch_size=2,
                write_overlays=False)
    assert res['kind'] == 'folder' and res['count'] == 6  # 3 jpg + 3 png
    for sub in ('images/coast_000.png', 'labels/coast_002_mask.png'):
        assert (_read(str(tmp_path / 'labels' / sub)) == STUDENT_CLASS).all()
    assert not osp.exists(tmp_path / 'vis')
    with pytest.raises(KeyError, match='mean_teacher'):
        UDASegInferencer(make_cfg(), checkpoint[1], weights='teacher',
                         device='cpu')


def test_sliding_window_on_a_large_image(tmp_path, checkpoint):
    img = str(tmp_path / 'wide.png')
    cv2.imwrite(img, np.random.default_rng(0).integers(
        0, 255, (40, 150, 3)).astype(np.uint8))
    inferencer = UDASegInferencer(make_cfg(), checkpoint[0],
                                  weights='teacher', slide=(32, 32),
                                  device='cpu')
    assert inferencer.model.test_cfg.mode == 'slide'
    assert tuple(inferencer.model.test_cfg.stride) == (21, 21)
    infer(inferencer, img, str(tmp_path / 'out'))
    label = _read(str(tmp_path / 'out' / 'labels' / 'wide.png'))
    assert label.shape == (40, 150) and (label == TEACHER_CLASS).all()
    with pytest.raises(ValueError, match='slide'):
        UDASegInferencer(make_cfg(), checkpoint[0], slide=(0, 4))


def test_video(tmp_path, checkpoint):
    path = str(tmp_path / 'clip.mp4')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 5,
                             (48, 32))
    if not writer.isOpened():
        pytest.skip('OpenCV cannot write mp4 here')
    for i in range(5):
        writer.write(np.full((32, 48, 3), 40 * i, np.uint8))
    writer.release()
    inferencer = UDASegInferencer(make_cfg(), checkpoint[0], device='cpu')
    res = infer(inferencer, path, str(tmp_path / 'out'), batch_size=2)
    assert res['kind'] == 'video' and res['count'] == 5
    labels = sorted(os.listdir(tmp_path / 'out' / 'labels' / 'clip'))
    assert labels == [f'{i:06d}.png' for i in range(5)]
    cap = cv2.VideoCapture(res['video'])
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    ok, frame = cap.read()
    assert ok and frame.shape == (32, 48, 3)


def test_list_inputs_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        list_inputs(str(tmp_path / 'nope.png'))
    with pytest.raises(FileNotFoundError, match='no image'):
        list_inputs(str(tmp_path))
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(ValueError, match='neither an image'):
        list_inputs(str(tmp_path / 'notes.txt'))


def test_tool(tmp_path, checkpoint, images):
    cfg = str(tmp_path / 'cfg.py')
    make_cfg().dump(cfg)
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'infer.py'), cfg,
         checkpoint[0], images['val_images'], '--out', str(tmp_path / 'o'),
         '--weights', 'teacher', '--device', 'cpu'],
        capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '2 images' in proc.stdout and 'teacher' in proc.stdout
    assert (_read(str(tmp_path / 'o' / 'labels' / 'dusk_000.png')) ==
            TEACHER_CLASS).all()
