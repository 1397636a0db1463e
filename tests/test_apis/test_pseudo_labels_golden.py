"""Golden run: pseudo-label sets stay byte-identical across refactors.

The expectations below were written by running the code before the
``mmseg_fdacl.pseudo_labels`` split (``mmseg_fdacl/apis/pseudo_labels.py`` at
commit e2e8299) once on this tiny set. Existing pseudo-label folders stay
reusable only if the manifest (its keys, values and settings hash) and the
PNGs come out the same, so these are compared byte for byte: the manifest
text (with the temporary root replaced by ``<ROOT>``) and every PNG file by
sha256.

If ``test_inputs_are_the_recorded_ones`` fails too, the inputs changed (the
generated images, the tiny model config, or the checkpoint bytes, e.g. under
another torch), not the pseudo-label code: regenerate the expectations from a
known-good commit.
"""
import glob
import hashlib
import json
import os.path as osp
from typing import Dict, List

import pytest

from mmseg_fdacl.apis import generate_pseudo_labels
from tests.helpers import (make_cityscapes_tree, make_gta5_tree,
                           tiny_deeplabv2_cfg)
from tests.test_apis.test_pseudo_labels import (make_checkpoint, source_cfg,
                                                target_cfg)

# sha256 of the generated data trees (relative paths and bytes, sorted) and
# of the model config's sorted JSON.
DATA_SHA256 = (
    'd39183cc96dc80b767db769fee03f919eeb6f2ca1b3c07fb6bd81786b35a4856')
MODEL_CFG_SHA256 = (
    '91e25341d66c728341abe1e051abf85ead11e6ca783fa5c90b444330637d28b2')
CHECKPOINT_SHA256 = [
    '5b2fcd4f200252625b66230a80c867dd09e0d8b47574f3dbd05d7427218a9231',
    'a7d144927ba80efbce870f016f274a0f26dc424f643cd0446a2ad962e93a9506',
]

# Per case: sha256 of manifest.json (root replaced by <ROOT>), its
# settings_hash, and the sha256 of the PNG of each of the 4 images in order.
EXPECTED: Dict[str, dict] = {
    'ensemble_fda': dict(
        # Re-recorded when a percentile estimate in a class's top histogram
        # bin became that bin's lower edge: class 7's threshold in the
        # manifest 0.1929725 -> 0.19294, the same 8 pixels kept, every PNG
        # unchanged.
        manifest_sha256=(
            '85292b4bcf7a98931769295caa176669d625471f757d11489a523da1dfb1b36f'
        ),
        settings_hash=(
            '95b59db347c191c78272daa0ab0fd724bbe457c01ebf141c986e1baba82637e7'
        ),
        pngs=[
            'bf20305751ad4aebff64eb9e152bf3b7989e8dd085723ec99edbbe24163db27d',
            '47d306e1acd5825bb15a0c8c2296ac177c5b746ed304278a33795d189367fbed',
            'f88376be0bdbe8c8a011302f3bd48f266c7d6328693bf740623d49b6aa174f0a',
            'e5b3bb83928859b880931d4be57b6ac216be648954ce68fc0784784c237e07bf',
        ]),
    'fixed_gray': dict(
        manifest_sha256=(
            'aed1e17c3029e6387c35c2f15145055816990e666c6376a5b1b6d80be39db4ba'
        ),
        settings_hash=(
            '322f9b198106df082bb94d18126c64d63a245f07d64cb91a162027031ac8015d'
        ),
        pngs=[
            'ec5da127eb82c2d49eb8c71cdc0438bd0d11e68ebc828c9664be46733f07d96e',
            'a85d6022235f8a1eb77602219c94c04377c4621b3522c561e6b160ebbf39181a',
            'a49a740a171768a752eb3600f3998b0d39e61c2f5d2a95c914b1c30e80d4e7ef',
            '468045d46866443b7fe925d737b2e1472c77b0ebd208f43212264baac2dda034',
        ]),
    'raw': dict(
        manifest_sha256=(
            '3c08df36eb2272f5d7a15d45b55bdd3aaea4355fe5e23c8a0c8d6cccd47b40a6'
        ),
        settings_hash=(
            '3e81ffaf4df09734f9a3bf98c2a69a2e781973a147e5a2f7a6eca04c08e41d24'
        ),
        pngs=[
            '3ab18a0942631415ccaddafad26210e9a2963eb198efe05943ebbb78e66d9e7d',
            '73f178be95a0df4dd087f1feaac1d979cf3f624a69a52a07e5c2bf7c0019ef95',
            'b3444494322bb2513581458b2e21decacb3265a8b579bacc3d24f0c065d1a474',
            '7eb089a06224537290b3c2ad50971f3731117db28a6542517a37e610afba96e8',
        ]),
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope='module')
def golden(tmp_path_factory) -> dict:
    root = str(tmp_path_factory.mktemp('golden'))
    cs = make_cityscapes_tree(osp.join(root, 'cs'), splits=(('train', 4), ))
    gta = make_gta5_tree(osp.join(root, 'gta'), num=3)
    ckpts = [
        make_checkpoint(osp.join(root, 'a.pth'), 0),
        make_checkpoint(osp.join(root, 'b.pth'), 1)
    ]
    return dict(root=root, cs=cs, gta=gta, ckpts=ckpts)


def _cases(golden: dict) -> Dict[str, tuple]:
    """Case name -> (checkpoints, keyword arguments)."""
    ckpts, gta = golden['ckpts'], golden['gta']
    return {
        # Two-model ensemble, FDA with a per-image random source reference
        # (seed 3), per-class thresholds.
        'ensemble_fda': (ckpts,
                         dict(beta=0.01, seed=3,
                              source_dataset=source_cfg(gta))),
        # A fixed reference, grayscale, a global threshold, a resizing
        # pipeline whose LoadAnnotations is dropped.
        'fixed_gray': (ckpts[:1],
                       dict(
                           beta=0.05,
                           reference=osp.join(gta, 'images', '00002.png'),
                           grayscale=True,
                           threshold=0.5,
                           pipeline=[
                               dict(type='LoadImageFromFile'),
                               dict(
                                   type='Resize',
                                   scale=(32, 16),
                                   keep_ratio=True),
                               dict(type='LoadAnnotations'),
                               dict(type='PackSegInputs')
                           ])),
        # No FDA, other percentile, cap and histogram resolution.
        'raw': (ckpts[1:],
                dict(beta=None, percentile=0.5, cap=0.8, num_bins=100)),
    }


def _png_hashes(out: str) -> List[str]:
    files = sorted(glob.glob(osp.join(out, '**', '*.png'), recursive=True))
    return [_sha256(open(f, 'rb').read()) for f in files]


def test_inputs_are_the_recorded_ones(golden):
    digest = hashlib.sha256()
    for tree in (golden['cs'], golden['gta']):
        for f in sorted(glob.glob(osp.join(tree, '**', '*'), recursive=True)):
            if osp.isfile(f):
                digest.update(osp.relpath(f, golden['root']).encode())
                digest.update(open(f, 'rb').read())
    assert digest.hexdigest() == DATA_SHA256
    assert _sha256(json.dumps(tiny_deeplabv2_cfg(),
                              sort_keys=True).encode()) == MODEL_CFG_SHA256
    assert [_sha256(open(c, 'rb').read())
            for c in golden['ckpts']] == CHECKPOINT_SHA256


@pytest.mark.parametrize('case', sorted(EXPECTED))
def test_pseudo_labels_are_byte_identical_to_the_recorded_run(golden, case):
    ckpts, kwargs = _cases(golden)[case]
    out = osp.join(golden['root'], case)
    manifest = generate_pseudo_labels(
        tiny_deeplabv2_cfg(), ckpts, target_cfg(golden['cs']), out,
        device='cpu', **kwargs)
    expected = EXPECTED[case]
    assert manifest['settings_hash'] == expected['settings_hash']
    with open(osp.join(out, 'manifest.json'), 'rb') as f:
        text = f.read().decode().replace(golden['root'], '<ROOT>')
    assert _sha256(text.encode()) == expected['manifest_sha256'], text
    assert _png_hashes(out) == expected['pngs']
    rel = sorted(
        osp.relpath(p, out)
        for p in glob.glob(osp.join(out, '**', '*.png'), recursive=True))
    assert rel == [
        f'aachen/aachen_000000_{i:06d}_leftImg8bit.png' for i in range(4)
    ]
