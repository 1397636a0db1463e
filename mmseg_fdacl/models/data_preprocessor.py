"""Data preprocessor for paired source/target batches.

Collates both domains, optionally converts them to grayscale, stylizes them
with Fourier domain adaptation (Yang & Soatto, CVPR 2020) on raw 0-255 pixels,
and only then converts channels and normalizes, as the FDA reference code
does (FDA before mean subtraction).
"""
from typing import Any, Dict, List, Optional, Union

import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS
from mmseg.utils import stack_batch
from torch import Tensor

from ..fda import check_fda_beta, fda_amplitude_swap
from ..utils.grayscale import to_grayscale
from .utils.checks import check_option_dict

_FDA_KEYS = ('beta', 'source_to_target', 'target_to_source', 'beta_sampling',
             'clip')
_GRAY_KEYS = ('source', 'target', 'test')
_BETA_SAMPLING = ('batch', 'sample')
_MEMORY_FORMATS = {
    'contiguous': torch.contiguous_format,
    'channels_last': torch.channels_last
}


def _check_prob(value: Union[bool, float], name: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f'UDADataPreProcessor: `{name}` must be a bool or a '
                         f'probability in [0, 1], got {value!r}.')
    return float(value)


@MODELS.register_module()
class UDADataPreProcessor(SegDataPreProcessor):
    """:class:`SegDataPreProcessor` for a source batch plus a target batch.

    Per domain, in this order: cast to float on the model's device; optional
    grayscale (3 equal channels, luma weights applied in the images' loaded
    channel order); FDA on 0-255 pixels (source in target style with the
    target image of the same batch position as reference; target in source
    style with the source image as reference); ``bgr_to_rgb``; mean/std
    normalization; padding (``pad_val`` for images, ``seg_pad_val`` for
    labels, including target pseudo labels). Grayscale comes before FDA so a
    grayscale domain stays gray and the reference's amplitude is taken from
    what the model sees of the other domain.

    Without ``target_inputs`` in the data (validation, test, inference) it is
    exactly :class:`SegDataPreProcessor`, except that ``grayscale['test']``
    converts test images to grayscale for a model trained on gray images.

    Random draws (a beta from a list, a grayscale probability) use
    :attr:`generator`, a CPU ``torch.Generator`` seeded with ``seed``; save and
    restore it with :meth:`get_rng_state` / :meth:`set_rng_state` for an exact
    resume. Nothing is kept in buffers, so the model's state dict has the
    same keys as with :class:`SegDataPreProcessor`.

    Args:
        size, size_divisor, rgb_to_bgr, and by keyword mean, std, pad_val,
            seg_pad_val, bgr_to_rgb, batch_augments, test_cfg: As
            :class:`SegDataPreProcessor`.
        fda (dict, optional): FDA during training; None disables it. Keys:
            ``beta`` (float or list of floats in [0, 0.5]; a list draws one
            value per batch or per sample), ``source_to_target`` (bool,
            default True: ``inputs`` become target-styled source images),
            ``target_to_source`` (bool, default False: adds
            ``target_src_style_inputs``), ``beta_sampling`` ('batch' or
            'sample', default 'batch'), ``clip`` (bool, default False: clip
            to [0, 255] as a displayable image; the reference does not).
        grayscale (dict, optional): Keys ``source``, ``target`` (bool or the
            probability per sample during training) and ``test`` (bool,
            validation/test images). Default: None (all off).
        seed (int): Seed of :attr:`generator`. Default: 0.
        memory_format (str): Layout of every image tensor it returns:
            ``'contiguous'`` (NCHW) or ``'channels_last'`` (NHWC in memory,
            the same shape; convolutions then run and return NHWC, which
            GPU tensor cores and oneDNN prefer). Values are unchanged.
            Default: 'contiguous'.
        non_blocking (bool): Copy batches to the device asynchronously
            (mmengine's ``cast_data``; it overlaps only from pinned memory,
            the configs' ``pin_memory=True``). Default: False.

    Returns (forward, training with target keys): a dict with ``inputs``,
    ``data_samples``, ``target_inputs``, ``target_data_samples`` and, with
    ``target_to_source``, ``target_src_style_inputs``.
    """

    def __init__(self,
                 size: Optional[tuple] = None,
                 size_divisor: Optional[int] = None,
                 rgb_to_bgr: bool = False,
                 *,
                 fda: Optional[dict] = None,
                 grayscale: Optional[dict] = None,
                 seed: int = 0,
                 memory_format: str = 'contiguous',
                 non_blocking: bool = False,
                 **kwargs) -> None:
        # mean, std, pad_val, seg_pad_val, bgr_to_rgb, batch_augments,
        # test_cfg: SegDataPreProcessor's, by keyword.
        super().__init__(
            size=size, size_divisor=size_divisor, rgb_to_bgr=rgb_to_bgr,
            **kwargs)
        if size is None and size_divisor is None:
            # stack_batch needs one of them; 1 pads only to the largest image
            self.size_divisor = 1
        # Images come as loaded: BGR, unless the config asks rgb_to_bgr.
        self._input_is_rgb = rgb_to_bgr
        self.fda = self._parse_fda(fda)
        self.grayscale = self._parse_grayscale(grayscale)
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f'UDADataPreProcessor: `seed` must be an int >= '
                             f'0, got {seed!r}.')
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)
        if memory_format not in _MEMORY_FORMATS:
            raise ValueError(
                'UDADataPreProcessor: `memory_format` must be one of '
                f'{tuple(_MEMORY_FORMATS)}, got {memory_format!r}.')
        self.memory_format = memory_format
        if not isinstance(non_blocking, bool):
            raise ValueError('UDADataPreProcessor: `non_blocking` must be a '
                             f'bool, got {non_blocking!r}.')
        # mmengine's BaseDataPreprocessor reads it in cast_data;
        # SegDataPreProcessor does not pass it on.
        self._non_blocking = non_blocking

    # -- configuration ---------------------------------------------------
    @staticmethod
    def _parse_fda(fda: Optional[dict]) -> Optional[dict]:
        if fda is None:
            return None
        check_option_dict('UDADataPreProcessor', 'fda', fda, _FDA_KEYS)
        if 'beta' not in fda:
            raise ValueError("UDADataPreProcessor: `fda` needs 'beta' (a "
                             'float or a list of floats in [0, 0.5]).')
        betas = fda['beta']
        betas = list(betas) if isinstance(betas, (list, tuple)) else [betas]
        if not betas:
            raise ValueError('UDADataPreProcessor: `fda.beta` is an empty '
                             'list; give at least one value in [0, 0.5].')
        betas = [check_fda_beta(b, name='fda.beta') for b in betas]
        out = dict(
            betas=betas,
            source_to_target=fda.get('source_to_target', True),
            target_to_source=fda.get('target_to_source', False),
            beta_sampling=fda.get('beta_sampling', 'batch'),
            clip=fda.get('clip', False))
        for key in ('source_to_target', 'target_to_source', 'clip'):
            if not isinstance(out[key], bool):
                raise ValueError(f'UDADataPreProcessor: `fda.{key}` must be '
                                 f'a bool, got {out[key]!r}.')
        if out['beta_sampling'] not in _BETA_SAMPLING:
            raise ValueError(
                'UDADataPreProcessor: `fda.beta_sampling` must be one of '
                f"{_BETA_SAMPLING}, got {out['beta_sampling']!r}.")
        return out

    @staticmethod
    def _parse_grayscale(grayscale: Optional[dict]) -> Dict[str, float]:
        grayscale = {} if grayscale is None else grayscale
        check_option_dict('UDADataPreProcessor', 'grayscale', grayscale,
                          _GRAY_KEYS)
        out = {
            k: _check_prob(grayscale.get(k, False), f'grayscale.{k}')
            for k in _GRAY_KEYS
        }
        if out['test'] not in (0.0, 1.0):
            raise ValueError('UDADataPreProcessor: `grayscale.test` must be a '
                             f"bool, got {grayscale['test']!r}.")
        return out

    # -- random state ----------------------------------------------------
    @property
    def makes_target_src_style(self) -> bool:
        """Whether batches carry ``target_src_style_inputs`` (FDA
        target->source), which the contrastive term needs."""
        return self.fda is not None and bool(self.fda['target_to_source'])

    def get_rng_state(self) -> Tensor:
        """State of :attr:`generator` (for checkpoints and exact resume)."""
        return self.generator.get_state()

    def set_rng_state(self, state: Tensor) -> None:
        """Restore a state returned by :meth:`get_rng_state`."""
        self.generator.set_state(state)

    def _draw_beta(self) -> float:
        betas = self.fda['betas']
        if len(betas) == 1:
            return betas[0]
        i = int(torch.randint(len(betas), (1, ), generator=self.generator))
        return betas[i]

    # -- pixel operations ------------------------------------------------
    def _to_gray(self, img: Tensor) -> Tensor:
        if img.shape[0] != 3:
            raise ValueError('UDADataPreProcessor: grayscale needs 3-channel '
                             f'images, got {img.shape[0]} channels.')
        return to_grayscale(img, rgb=self._input_is_rgb)

    def _maybe_gray(self, imgs: List[Tensor], prob: float) -> List[Tensor]:
        if prob <= 0:
            return imgs
        if prob >= 1:
            return [self._to_gray(x) for x in imgs]
        draws = torch.rand(len(imgs), generator=self.generator).tolist()
        return [self._to_gray(x) if d < prob else x
                for x, d in zip(imgs, draws)]

    def _stylize(self, imgs: List[Tensor], refs: List[Tensor],
                 betas: List[float]) -> List[Tensor]:
        """FDA of each ``imgs[i]`` with ``refs[i]``'s amplitude.

        Runs with autocast off: mmengine's ``train_step`` calls the
        preprocessor inside the AMP context, and FDA's complex GEMMs on 0-255
        pixels need float32 (bf16 has no complex type and 8 mantissa bits).
        """
        with torch.autocast(imgs[0].device.type, enabled=False):
            return self._stylize_fp32(imgs, refs, betas)

    def _stylize_fp32(self, imgs: List[Tensor], refs: List[Tensor],
                      betas: List[float]) -> List[Tensor]:
        same = (len({tuple(x.shape) for x in imgs}) == 1
                and len({tuple(r.shape) for r in refs}) == 1
                and len(set(betas)) == 1)
        clip = self.fda['clip']
        if same:
            out = fda_amplitude_swap(
                torch.stack(imgs), torch.stack(refs), betas[0], clip=clip)
            return list(out.unbind(0))
        return [
            fda_amplitude_swap(x[None], r[None], b, clip=clip)[0]
            for x, r, b in zip(imgs, refs, betas)
        ]

    def _normalize(self, imgs: List[Tensor]) -> List[Tensor]:
        if self.channel_conversion and imgs[0].size(0) == 3:
            imgs = [x[[2, 1, 0], ...] for x in imgs]
        if self._enable_normalize:
            imgs = [(x - self.mean) / self.std for x in imgs]
        return imgs

    def _stack(self, imgs: List[Tensor], data_samples=None):
        return stack_batch(
            inputs=imgs,
            data_samples=data_samples,
            size=self.size,
            size_divisor=None if self.size is not None else self.size_divisor,
            pad_val=self.pad_val,
            seg_pad_val=self.seg_pad_val)

    # -- forward ---------------------------------------------------------
    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Preprocess a batch; see the class docstring for the steps.

        Args:
            data (dict): From the dataloader: ``inputs``, ``data_samples``
                and, for UDA training, ``target_inputs`` and
                ``target_data_samples``.
            training (bool): Whether this is a training step.

        Returns:
            dict: Model inputs (see the class docstring).
        """
        if 'target_inputs' not in data or not training:
            gray = self.grayscale['source' if training else 'test']
            if gray > 0:
                data = self.cast_data(data)
                data = dict(data)
                data['inputs'] = self._maybe_gray(
                    [x.float() for x in data['inputs']], gray)
            data = {
                k: v
                for k, v in data.items()
                if k not in ('target_inputs', 'target_data_samples')
            }
            return self._to_memory_format(super().forward(data, training))

        data = self.cast_data(data)
        src = [x.float() for x in data['inputs']]
        trg = [x.float() for x in data['target_inputs']]
        src_samples = data.get('data_samples')
        trg_samples = data.get('target_data_samples')
        if src_samples is None:
            raise ValueError('UDADataPreProcessor: training needs the source '
                             '`data_samples` (with gt_sem_seg).')
        if len(src) != len(trg):
            raise ValueError(
                f'UDADataPreProcessor: {len(src)} source but {len(trg)} '
                'target images in the batch; UDADataset yields them in pairs.')
        src = self._maybe_gray(src, self.grayscale['source'])
        trg = self._maybe_gray(trg, self.grayscale['target'])

        trg_src_style = None
        if self.fda is not None:
            if self.fda['beta_sampling'] == 'sample':
                betas = [self._draw_beta() for _ in src]
            else:
                betas = [self._draw_beta()] * len(src)
            for sample, beta in zip(src_samples, betas):
                sample.set_metainfo(dict(fda_beta=beta))
            new_src = (self._stylize(src, trg, betas)
                       if self.fda['source_to_target'] else src)
            if self.fda['target_to_source']:
                trg_src_style = self._stylize(trg, src, betas)
            src = new_src

        inputs, src_samples = self._stack(self._normalize(src), src_samples)
        target_inputs, trg_samples = self._stack(
            self._normalize(trg), trg_samples)
        out = dict(
            inputs=inputs,
            data_samples=src_samples,
            target_inputs=target_inputs,
            target_data_samples=trg_samples)
        if trg_src_style is not None:
            out['target_src_style_inputs'] = self._stack(
                self._normalize(trg_src_style))[0]
        return self._to_memory_format(out)

    def _to_memory_format(self, out: Dict[str, Any]) -> Dict[str, Any]:
        if self.memory_format == 'contiguous':
            return out
        fmt = _MEMORY_FORMATS[self.memory_format]
        for key in ('inputs', 'target_inputs', 'target_src_style_inputs'):
            value = out.get(key)
            if isinstance(value, Tensor) and value.dim() == 4:
                out[key] = value.contiguous(memory_format=fmt)
        return out
