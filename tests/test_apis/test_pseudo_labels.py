"""Tests of mmseg_fdacl.pseudo_labels: prediction, files, resumption.

The threshold math is tested in ``test_pseudo_label_thresholds.py``, the
bytes of a whole set against a recorded run in
``test_pseudo_labels_golden.py``.
"""
import glob
import json
import os
import os.path as osp
import socket

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmseg.registry import MODELS

from mmseg_fdacl.apis import generate_pseudo_labels
from mmseg_fdacl.pseudo_labels import PseudoLabelSettingsError
from mmseg_fdacl.pseudo_labels import files
from mmseg_fdacl.pseudo_labels.manifest import sha256_file
from mmseg_fdacl.pseudo_labels.predictor import Predictor
from tests.helpers import (make_cityscapes_tree, make_gta5_tree,
                           tiny_deeplabv2_cfg)

NUM_BINS = 1000


# --------------------------------------------------------------------------
# Fixtures shared with the hook and tool tests (imported from here).
# --------------------------------------------------------------------------
def make_checkpoint(path: str, seed: int, scale: float = 3000.) -> str:
    """Save a tiny DeepLabV2 whose random head gives spread-out confidences.

    A freshly initialized head predicts nearly uniform softmax (features are
    tiny); scaling its weights gives varied classes and confidences.
    """
    torch.manual_seed(seed)
    model = MODELS.build(ConfigDict(tiny_deeplabv2_cfg()))
    with torch.no_grad():
        for name, p in model.decode_head.named_parameters():
            if 'bias' in name:
                p.zero_()
            else:
                p.normal_(0, scale / p[0].numel()**0.5)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def target_cfg(root: str) -> dict:
    return dict(
        type='CityscapesDataset',
        data_root=root,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=[])


def source_cfg(root: str) -> dict:
    # Only the file list is used; BaseSegDataset keeps this test independent
    # of the GTA5 dataset class.
    return dict(
        type='BaseSegDataset',
        data_root=root,
        data_prefix=dict(img_path='images'),
        img_suffix='.png',
        pipeline=[])


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('pl_data')
    cs = make_cityscapes_tree(str(root / 'cs'), splits=(('train', 6), ))
    gta = make_gta5_tree(str(root / 'gta'), num=3)
    ckpts = [
        make_checkpoint(str(root / 'a.pth'), 0),
        make_checkpoint(str(root / 'b.pth'), 1)
    ]
    return dict(root=root, cs=cs, gta=gta, ckpts=ckpts)


def run(data, out, ckpts=None, **kwargs):
    kwargs.setdefault('source_dataset', source_cfg(data['gta']))
    return generate_pseudo_labels(
        tiny_deeplabv2_cfg(), ckpts or data['ckpts'][:1],
        target_cfg(data['cs']), str(out), device='cpu', **kwargs)


def read_pngs(out):
    files = sorted(glob.glob(osp.join(str(out), '**', '*.png'),
                             recursive=True))
    return {
        osp.relpath(f, str(out)): cv2.imread(f, cv2.IMREAD_UNCHANGED)
        for f in files
    }


def mtimes(out):
    return {
        f: os.stat(f).st_mtime_ns
        for f in glob.glob(osp.join(str(out), '**', '*'), recursive=True)
    }


# --------------------------------------------------------------------------
# Prediction and arguments.
# --------------------------------------------------------------------------
def test_to_grayscale_bgr_luma():
    img = torch.tensor([10., 20., 30.]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    # The predictor's grayscale step (no FDA): the one BGR luma helper.
    predictor = Predictor([], [], beta=None, grayscale=True, reference=None,
                          source_paths=[], seed=0)
    gray = predictor.stylize(img, 0)
    expected = 0.114 * 10 + 0.587 * 20 + 0.299 * 30
    assert gray.shape == (1, 3, 2, 2)
    assert torch.allclose(gray, torch.full_like(gray, expected))


@pytest.mark.parametrize('kwargs, name', [
    (dict(beta=0.7), 'beta'),
    (dict(percentile=66), 'percentile'),
    (dict(cap=0.0), 'cap'),
    (dict(threshold=1.5), 'threshold'),
    (dict(num_bins=1), 'num_bins'),
])
def test_invalid_arguments_named(data, tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        run(data, tmp_path / 'out', **kwargs)


def test_fda_without_source_set_is_a_clear_error(data, tmp_path):
    with pytest.raises(ValueError, match='source_dataset'):
        run(data, tmp_path / 'out', source_dataset=None)


# --------------------------------------------------------------------------
# End to end.
# --------------------------------------------------------------------------
def _brute_force_probs(data, ckpts):
    """Average softmax of the checkpoints, computed without the library."""
    from mmengine.runner import load_checkpoint
    models = []
    for c in ckpts:
        m = MODELS.build(ConfigDict(tiny_deeplabv2_cfg()))
        load_checkpoint(m, c, map_location='cpu')
        models.append(m.eval())
    out = {}
    for f in sorted(glob.glob(osp.join(data['cs'], 'leftImg8bit', 'train',
                                       '*', '*.png'))):
        x = torch.from_numpy(cv2.imread(f)).permute(2, 0, 1).float()
        with torch.no_grad():
            prob = sum(
                m.test_step(dict(inputs=[x]))[0].seg_logits.data.softmax(0)
                for m in models) / len(models)
        rel = osp.relpath(f, osp.join(data['cs'], 'leftImg8bit', 'train'))
        out[rel] = prob.numpy()
    return out


def test_ensemble_labels_match_brute_force(data, tmp_path):
    out = tmp_path / 'out'
    manifest = run(data, out, ckpts=data['ckpts'], beta=None)
    probs = _brute_force_probs(data, data['ckpts'])
    pngs = read_pngs(out)
    assert sorted(pngs) == sorted(probs)
    conf = np.concatenate([p.max(0).ravel() for p in probs.values()])
    pred = np.concatenate([p.argmax(0).ravel() for p in probs.values()])
    assert len(np.unique(pred)) >= 3  # the check below is not vacuous
    thr = np.full(19, 0.9)
    for c in np.unique(pred):
        thr[c] = min(np.percentile(conf[pred == c], 66), 0.9)
    np.testing.assert_allclose(
        manifest['thresholds'], thr, atol=1.0 / NUM_BINS)
    label = np.concatenate([pngs[k].ravel() for k in probs])
    assert label.dtype == np.uint8
    ignored = label == 255
    # 255 exactly where confidence < threshold (pixels within one histogram
    # bin of their class threshold may go either way).
    margin = np.abs(conf - thr[pred]) > 1.0 / NUM_BINS
    assert (ignored[margin] == (conf < thr[pred])[margin]).all()
    assert (label[~ignored] == pred[~ignored]).all()
    assert 0 < ignored.sum() < ignored.size
    # manifest bookkeeping
    on_disk = json.load(open(out / 'manifest.json'))
    assert on_disk == manifest and manifest['complete']
    assert manifest['num_images'] == 6
    assert [c['sha256'] for c in manifest['checkpoints']] == [
        sha256_file(c) for c in data['ckpts']
    ]
    counts = np.bincount(label, minlength=256)
    assert manifest['labelled_pixels'] == counts[:19].tolist()
    assert manifest['ignored_pixels'] == counts[255]
    assert manifest['predicted_pixels'] == np.bincount(
        pred, minlength=19).tolist()


def test_global_threshold_and_original_size(data, tmp_path):
    out = tmp_path / 'out'
    # A pipeline that predicts at a smaller size: labels still come back at
    # the size of the image file.
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(32, 16), keep_ratio=True),
        dict(type='LoadAnnotations'),  # dropped: target images have no GT
        dict(type='PackSegInputs')
    ]
    manifest = run(data, out, threshold=0.5, pipeline=pipeline, grayscale=True)
    assert manifest['thresholds'] == [0.5] * 19
    assert manifest['predicted_pixels'] is None
    for label in read_pngs(out).values():
        assert label.shape == (32, 64)


def test_second_run_writes_nothing(data, tmp_path):
    out = tmp_path / 'out'
    run(data, out)
    before = mtimes(out)
    written = []
    run(data, out, image_callback=lambda i, p: written.append(p))
    assert written == []
    assert mtimes(out) == before


def test_interrupted_run_resumes_without_truncated_files(
        data, tmp_path, monkeypatch):
    ref = tmp_path / 'ref'
    run(data, ref)
    expected = read_pngs(ref)

    out = tmp_path / 'out'
    real_imwrite = cv2.imwrite
    calls = []

    def crash_while_writing(path, img, *args):
        calls.append(path)
        if len(calls) == 3:  # the third PNG dies half-written
            with open(path, 'wb') as f:
                f.write(b'\x89PNG\r\n')
            raise KeyboardInterrupt('simulated kill')
        return real_imwrite(path, img, *args)

    monkeypatch.setattr(files.cv2, 'imwrite', crash_while_writing)
    with pytest.raises(KeyboardInterrupt):
        run(data, out)
    monkeypatch.undo()
    partial = read_pngs(out)
    assert len(partial) == 2  # no third, truncated file under a final name
    for name, label in partial.items():
        np.testing.assert_array_equal(label, expected[name])
    manifest = json.load(open(out / 'manifest.json'))
    assert manifest['thresholds_final'] and not manifest['complete']
    # What SIGKILL would leave behind: a temporary file. It is cleaned up.
    stale = osp.join(str(out), 'aachen', '.x.tmp-123.png')
    open(stale, 'wb').write(b'junk')

    written = []
    manifest = run(data, out, image_callback=lambda i, p: written.append(p))
    assert len(written) == 4 and manifest['complete']
    assert not osp.exists(stale)
    final = read_pngs(out)
    assert sorted(final) == sorted(expected)
    for name in expected:
        np.testing.assert_array_equal(final[name], expected[name])
    assert manifest == json.load(open(ref / 'manifest.json'))


def test_changed_settings_are_not_reused(data, tmp_path):
    out = tmp_path / 'out'
    run(data, out)
    with pytest.raises(PseudoLabelSettingsError, match='percentile'):
        run(data, out, percentile=0.5)
    with pytest.raises(PseudoLabelSettingsError, match='grayscale'):
        run(data, out, grayscale=True)
    with pytest.raises(PseudoLabelSettingsError, match='checkpoint_sha256'):
        run(data, out, ckpts=data['ckpts'][1:])
    # same file name, other weights
    ckpt = make_checkpoint(str(tmp_path / 'c.pth'), 0)
    out2 = tmp_path / 'out2'
    run(data, out2, ckpts=[ckpt])
    make_checkpoint(ckpt, 5)
    with pytest.raises(PseudoLabelSettingsError, match='checkpoint_sha256'):
        run(data, out2, ckpts=[ckpt])
    # a folder of PNGs that this tool did not write
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    cv2.imwrite(str(foreign / 'x.png'), np.zeros((2, 2), np.uint8))
    with pytest.raises(PseudoLabelSettingsError, match='manifest'):
        run(data, foreign)


# --------------------------------------------------------------------------
# Two processes (gloo on loopback) == one process.
# --------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _dist_worker(rank, world_size, port, data, out, log_dir):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    # mmengine 0.10.7's init_dist calls torch.cuda.set_device: init directly.
    dist.init_process_group(
        'gloo', rank=rank, world_size=world_size, init_method='env://')
    try:
        from mmseg.utils import register_all_modules

        import mmseg_fdacl  # noqa: F401
        register_all_modules()
        written = []
        run(data, out, ckpts=data['ckpts'],
            image_callback=lambda i, p: written.append(i))
        with open(osp.join(log_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(written, f)
    finally:
        dist.destroy_process_group()


def test_two_processes_equal_one(data, tmp_path):
    one = tmp_path / 'one'
    run(data, one, ckpts=data['ckpts'])
    two = tmp_path / 'two'
    log_dir = tmp_path / 'logs'
    log_dir.mkdir()
    torch.multiprocessing.spawn(
        _dist_worker,
        args=(2, _free_port(), data, str(two), str(log_dir)),
        nprocs=2,
        join=True)
    a, b = read_pngs(one), read_pngs(two)
    assert sorted(a) == sorted(b) and len(a) == 6
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert json.load(open(one / 'manifest.json')) == json.load(
        open(two / 'manifest.json'))
    r0 = json.load(open(log_dir / 'rank0.json'))
    r1 = json.load(open(log_dir / 'rank1.json'))
    assert sorted(r0 + r1) == list(range(6))  # every image exactly once
    assert r0 == [0, 2, 4] and r1 == [1, 3, 5]


def test_other_number_of_classes_is_refused(data, tmp_path):
    """A 16-class checkpoint, or a 16-class model, never labels a 19-class set.

    mmengine's non-strict loading would only warn and keep a random head.
    """
    torch.manual_seed(0)
    model16 = MODELS.build(ConfigDict(tiny_deeplabv2_cfg(num_classes=16)))
    ckpt16 = str(tmp_path / 'c16.pth')
    torch.save({'state_dict': model16.state_dict(), 'meta': {}}, ckpt16)
    with pytest.raises(ValueError, match='c16.pth.*another number of classes'):
        run(data, tmp_path / 'out16', ckpts=[ckpt16])
    with pytest.raises(ValueError, match='16 classes.*19'):
        generate_pseudo_labels(
            tiny_deeplabv2_cfg(num_classes=16), [ckpt16],
            target_cfg(data['cs']), str(tmp_path / 'out16b'), device='cpu',
            source_dataset=source_cfg(data['gta']))
    # Nothing was written: the same folders take a right run afterwards.
    assert not glob.glob(str(tmp_path / 'out16*' / '*'))


def test_apis_entry_points_are_the_package_functions():
    """``mmseg_fdacl.apis`` holds the entry points: the pseudo-label driver
    and its scoring are :mod:`mmseg_fdacl.pseudo_labels`' functions (no
    second copy), beside the inference entry point."""
    import mmseg_fdacl.apis as apis
    import mmseg_fdacl.pseudo_labels as package
    for name in ('generate_pseudo_labels', 'evaluate_pseudo_labels'):
        assert getattr(apis, name) is getattr(package, name), name
    assert {'UDASegInferencer', 'infer'} <= set(apis.__all__)
