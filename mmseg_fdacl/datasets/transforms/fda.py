"""FDA as a pipeline transform: stylise an image with a reference's spectrum.

Yang & Soatto, "FDA: Fourier Domain Adaptation for Semantic Segmentation",
CVPR 2020. The operation itself lives in :mod:`mmseg_fdacl.fda`.
"""
import copy
import glob
import os.path as osp
from typing import List, Optional, Sequence, Union

import mmcv
import mmengine.fileio as fileio
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.dist import get_rank
from mmseg.registry import DATASETS, TRANSFORMS

from mmseg_fdacl.fda import check_fda_beta, fda_amplitude_swap

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


def _list_reference_paths(reference: Union[str, Sequence[str], dict],
                          suffix: Optional[str]) -> List[str]:
    """Resolve a reference pool description to a list of image paths."""
    if isinstance(reference, dict):
        if 'type' not in reference:
            raise ValueError(f'reference dataset config needs a "type" key, '
                             f'got {reference!r}')
        cfg = copy.deepcopy(reference)
        # The pool only needs file names; its pipeline is never run.
        cfg['pipeline'] = []
        dataset = DATASETS.build(cfg)
        paths = [
            dataset.get_data_info(i)['img_path'] for i in range(len(dataset))
        ]
        where = f'reference dataset {reference.get("type")!r} (data_root=' \
                f'{reference.get("data_root")!r})'
    elif isinstance(reference, str):
        if osp.isdir(reference):
            paths = sorted(
                p for p in glob.glob(
                    osp.join(reference, '**', '*'), recursive=True)
                if p.lower().endswith(IMG_EXTENSIONS))
            where = f'reference folder {reference!r}'
        elif osp.isfile(reference):
            root = osp.dirname(osp.abspath(reference))
            with open(reference) as f:
                paths = [
                    line.strip() if osp.isabs(line.strip()) else osp.join(
                        root, line.strip()) for line in f if line.strip()
                ]
            where = f'reference list {reference!r}'
        else:
            raise FileNotFoundError(
                f'reference {reference!r} is neither a folder of images nor '
                f'a file list (one image path per line); check the path.')
    elif isinstance(reference, (list, tuple)):
        paths = [str(p) for p in reference]
        where = 'reference list'
    else:
        raise TypeError(f'reference must be a folder, a .txt file list, a '
                        f'list of paths or a dataset config dict, got '
                        f'{type(reference).__name__}')
    if suffix is not None:
        paths = [p for p in paths if p.endswith(suffix)]
    if not paths:
        raise ValueError(f'{where} holds no reference images' +
                         (f' ending with {suffix!r}' if suffix else '') +
                         '; the FDA reference pool must not be empty.')
    return paths


def _randint(rng, n: int) -> int:
    """Uniform integer in ``[0, n)`` from a Generator or ``np.random``."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(n))
    return int(rng.randint(n))


@TRANSFORMS.register_module()
class FDA(BaseTransform):
    """Give an image the low-frequency amplitude spectrum of a reference.

    Fourier domain adaptation (Yang & Soatto, CVPR 2020): the amplitude of
    the centred ``(2b+1) x (2b+1)`` low-frequency window
    (``b = floor(min(H, W) * beta)``) is taken from a reference image of the
    other domain, the phase stays the source's. The reference is drawn
    uniformly from a pool and resized bilinearly to the image's size; it is
    loaded with the same channel order as ``LoadImageFromFile`` (BGR).

    Place it anywhere after ``LoadImageFromFile`` and before
    ``PackSegInputs``: it works on raw 0-255 pixels, and MMSeg normalises in
    the data preprocessor. After geometric transforms (crop/resize) it
    stylises exactly the pixels the network sees and is cheaper.

    Required Keys:

    - img

    Modified Keys:

    - img (float32 when applied, clipped to [0, 255] if ``clip``; left
      untouched, dtype included, when skipped by ``prob``)

    Added Keys:

    - fda_beta (float): the beta used, 0.0 when skipped.
    - fda_ref_path (str | None): the reference image, None when skipped.

    Add ``fda_beta``/``fda_ref_path`` to ``PackSegInputs(meta_keys=...)`` to
    keep them in the data samples.

    Args:
        reference (str | list[str] | dict): The reference pool: a folder
            (searched recursively for images), a text file with one image
            path per line (relative paths are relative to the file), a list
            of paths, or a dataset config of the other domain (built with
            ``DATASETS.build``; its ``img_path`` entries are used).
        beta (float | Sequence[float]): Window size relative to
            ``min(H, W)`` in ``[0, 0.5]``, or several to draw from uniformly
            per image (multi-band FDA: ``[0.01, 0.05, 0.09]``).
            Default: 0.01.
        prob (float): Probability of applying FDA, in ``[0, 1]``.
            Default: 1.0.
        clip (bool): Clip the result to ``[0, 255]``. Default: True.
        seed (int, optional): Seed of this transform's own random generator
            (mixed with the dataloader worker id and the distributed rank, so
            workers do not repeat each other). None uses numpy's global
            generator, which mmengine seeds per worker. Default: None.
        ref_suffix (str, optional): Keep only pool files ending with this,
            e.g. ``'_leftImg8bit.png'``. Default: None.
        ref_color_type (str): ``'color'`` or ``'grayscale'``. Grayscale
            references are replicated to the image's channels (for
            grayscale training with 3-channel gray images). Default: 'color'.
        backend_args (dict, optional): File backend arguments, as in
            ``LoadImageFromFile``. Default: None.
    """

    def __init__(self,
                 reference: Union[str, Sequence[str], dict],
                 beta: Union[float, Sequence[float]] = 0.01,
                 prob: float = 1.0,
                 clip: bool = True,
                 seed: Optional[int] = None,
                 ref_suffix: Optional[str] = None,
                 ref_color_type: str = 'color',
                 backend_args: Optional[dict] = None) -> None:
        super().__init__()
        if isinstance(beta, (list, tuple)):
            if not beta:
                raise ValueError('beta must be a number or a non-empty list '
                                 'of numbers in [0, 0.5], got []')
            self.betas = [check_fda_beta(b, 'beta') for b in beta]
        else:
            self.betas = [check_fda_beta(beta, 'beta')]
        if isinstance(prob, bool) or not isinstance(
                prob, (int, float)) or not 0 <= prob <= 1:
            raise ValueError(f'prob must be a number in [0, 1], got {prob!r}')
        if seed is not None and (isinstance(seed, bool)
                                 or not isinstance(seed, int) or seed < 0):
            raise ValueError(f'seed must be None or a non-negative int, got '
                             f'{seed!r}')
        if ref_color_type not in ('color', 'grayscale'):
            raise ValueError(f'ref_color_type must be "color" or '
                             f'"grayscale", got {ref_color_type!r}')
        self.reference = reference
        self.prob = float(prob)
        self.clip = bool(clip)
        self.seed = seed
        self.ref_suffix = ref_suffix
        self.ref_color_type = ref_color_type
        self.backend_args = copy.deepcopy(backend_args)
        self.ref_paths = _list_reference_paths(reference, ref_suffix)
        self._rng: Optional[np.random.Generator] = None
        self._rng_owner = None

    def _generator(self):
        """This process's random generator (numpy's global one if unseeded).

        Each dataloader worker (and rank) gets its own stream, derived from
        ``seed``, the first time it draws.
        """
        if self.seed is None:
            return np.random
        info = torch.utils.data.get_worker_info()
        owner = (get_rank(), info.id if info is not None else -1)
        if self._rng is None or owner != self._rng_owner:
            self._rng = np.random.default_rng(
                [self.seed, owner[0], owner[1] + 1])
            self._rng_owner = owner
        return self._rng

    def _load_reference(self, path: str) -> np.ndarray:
        try:
            img_bytes = fileio.get(path, backend_args=self.backend_args)
            img = mmcv.imfrombytes(img_bytes, flag=self.ref_color_type)
        except Exception as e:
            raise IOError(f'FDA could not read reference image {path!r} '
                          f'({e}); fix or remove it from the pool.') from e
        if img is None:
            raise IOError(f'FDA could not decode reference image {path!r}; '
                          f'fix or remove it from the pool.')
        return img

    def transform(self, results: dict) -> dict:
        """Stylise ``results['img']`` with a randomly drawn reference.

        Args:
            results (dict): Result dict with ``img`` (``H x W x C`` or
                ``H x W``, uint8 or float, 0-255).

        Returns:
            dict: The result dict with the stylised image.
        """
        rng = self._generator()
        apply = rng.random() < self.prob
        results['fda_beta'] = 0.0
        results['fda_ref_path'] = None
        if not apply:
            return results
        beta = self.betas[_randint(rng, len(self.betas))]
        ref_path = self.ref_paths[_randint(rng, len(self.ref_paths))]
        img = results['img']
        ref = self._load_reference(ref_path)
        src = torch.from_numpy(np.ascontiguousarray(np.atleast_3d(img)))
        ref_t = torch.from_numpy(np.atleast_3d(ref))
        if ref_t.shape[2] != src.shape[2]:
            if ref_t.shape[2] != 1:
                raise ValueError(
                    f'FDA reference {ref_path!r} has {ref_t.shape[2]} '
                    f'channels but the image has {src.shape[2]}; set '
                    f'ref_color_type="grayscale" for gray images.')
            ref_t = ref_t.expand(-1, -1, src.shape[2])
        if not src.is_floating_point():
            src = src.float()
        out = fda_amplitude_swap(
            src.permute(2, 0, 1)[None],
            ref_t.permute(2, 0, 1)[None].to(src.dtype),
            beta,
            clip=self.clip)
        out = out[0].permute(1, 2, 0).numpy().astype(np.float32)
        results['img'] = out.reshape(img.shape)
        results['fda_beta'] = beta
        results['fda_ref_path'] = ref_path
        return results

    def __repr__(self) -> str:
        beta = self.betas if len(self.betas) > 1 else self.betas[0]
        return (f'{self.__class__.__name__}(reference={self.reference!r}, '
                f'num_refs={len(self.ref_paths)}, beta={beta}, '
                f'prob={self.prob}, clip={self.clip}, seed={self.seed}, '
                f'ref_suffix={self.ref_suffix!r}, '
                f'ref_color_type={self.ref_color_type!r})')
