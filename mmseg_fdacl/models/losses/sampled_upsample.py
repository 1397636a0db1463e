"""Bilinear upsampling and L2 normalization at sampled positions only.

A contrastive loss that draws a few thousand pixel positions of the input's
grid needs the upsampled, L2-normalized embeddings only there. Upsampling and
normalizing the whole map first (``F.interpolate`` to the input size, then
``F.normalize``) costs two passes over ``N x D x H x W`` forward and backward;
:func:`upsample_normalize_at` does the same at the ``K`` drawn positions.

The values are those of ``F.normalize(F.interpolate(x, size, 'bilinear',
align_corners), dim=1)`` at the positions, and the gradient is that of the
full path: on CPU builds whose upsampling kernel fuses multiply-adds (the
AVX2 and AVX-512 kernels of the x86 wheels) they are bit-identical, because
the interpolation weights, the products and the order of the backward's
accumulation are those of PyTorch's kernel (``upsample_bilinear2d`` and its
backward, with their fused multiply-adds computed exactly here); elsewhere
(other CPUs, CUDA) they agree to float rounding, as they do for outputs as
small as 32 x 64, which PyTorch's kernel upsamples along another path
(measured: exact from 64 x 128 up, and at 256 x 512).

:class:`UDAEncoderDecoder` takes this path for the method's cross-view
contrast at ``embedding_resolution='input'`` (stage 2, fda-cl-online).
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def fma32(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """Correctly rounded float32 ``a * b + c`` (one rounding, as an FMA).

    ``a * b`` of two float32 numbers is exact in float64; the sum is made
    exact with TwoSum and rounded to odd in float64, so that the final
    rounding to float32 is the single rounding of a fused multiply-add.
    """
    ad, bd, cd = a.double(), b.double(), c.double()
    p = ad * bd
    s = p + cd
    bb = s - p
    err = (p - (s - bb)) + (cd - bb)
    even = (s.view(torch.int64) & 1) == 0
    toward = torch.where(err > 0, torch.full_like(s, float('inf')),
                         torch.full_like(s, float('-inf')))
    s = torch.where((err != 0) & even, torch.nextafter(s, toward), s)
    return s.float()


def _axis(n_in: int, n_out: int, align_corners: bool,
          device: torch.device) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Source indices and weights along one axis, as PyTorch's CPU kernel
    computes them (``area_pixel_compute_source_index``, float32)."""
    d = torch.arange(n_out, dtype=torch.float32, device=device)
    if n_in == n_out:
        i0 = torch.arange(n_out, device=device)
        return i0, i0, torch.ones_like(d), torch.zeros_like(d)
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = d * torch.tensor(scale, dtype=torch.float32, device=device)
    else:
        scale = torch.full_like(d, n_in) / n_out
        src = fma32(scale, d + 0.5, torch.full_like(d, -0.5)).clamp_min(0)
    i0 = src.floor().long().clamp(max=n_in - 1)
    l1 = (src - i0.float()).clamp(0, 1)
    i1 = i0 + (i0 < n_in - 1).long()
    return i0, i1, 1 - l1, l1


class _BilinearAt(torch.autograd.Function):
    """``D x K`` bilinear samples of ``N x D x h x w`` at flat positions."""

    @staticmethod
    def forward(ctx, x: Tensor, pos: Tensor, size: Tuple[int, int],
                align_corners: bool) -> Tensor:
        n, d, h, w = x.shape
        big_h, big_w = size
        img, rest = pos // (big_h * big_w), pos % (big_h * big_w)
        oh, ow = rest // big_w, rest % big_w
        h0, h1, a0, a1 = _axis(h, big_h, align_corners, x.device)
        w0, w1, b0, b1 = _axis(w, big_w, align_corners, x.device)
        h0, h1, a0, a1 = h0[oh], h1[oh], a0[oh], a1[oh]
        w0, w1, b0, b1 = w0[ow], w1[ow], b0[ow], b1[ow]
        flat = x.detach().float().transpose(0, 1).reshape(d, n * h * w)
        base = img * (h * w)

        def at(hh: Tensor, ww: Tensor) -> Tensor:
            return flat[:, base + hh * w + ww]

        t0 = fma32(at(h0, w0), b0.expand(d, -1), at(h0, w1) * b1)
        t1 = fma32(at(h1, w0), b0.expand(d, -1), at(h1, w1) * b1)
        out = fma32(t0, a0.expand(d, -1), t1 * a1)
        # Corner cells and weights in the backward's order: per position,
        # (h0, w0), (h0, w1), (h1, w0), (h1, w1).
        cells = torch.stack([
            base + h0 * w + w0, base + h0 * w + w1, base + h1 * w + w0,
            base + h1 * w + w1
        ], 1).reshape(-1)
        weights = torch.stack([a0 * b0, a0 * b1, a1 * b0, a1 * b1],
                              1).reshape(-1)
        ctx.save_for_backward(cells, weights)
        ctx.shape = (n, d, h, w)
        ctx.dtype = x.dtype
        return out.to(x.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor):
        cells, weights = ctx.saved_tensors
        n, d, h, w = ctx.shape
        g = grad.float().repeat_interleave(4, dim=1)  # D x 4K
        acc = g.new_zeros((d, n * h * w))
        if g.device.type != 'cpu':
            # No bit-identity to match off the CPU (CUDA's backward adds
            # atomically): one scatter, no host sync.
            acc.index_add_(1, cells, weights * g)
            grad_x = acc.view(d, n, h, w).transpose(0, 1).to(ctx.dtype)
            return grad_x.contiguous(), None, None, None
        # Each cell accumulates its contributions one by one, in the order
        # of the output positions (PyTorch's backward walks the output in
        # raster order): rank r holds every cell's r-th contribution.
        order = torch.argsort(cells, stable=True)
        sorted_cells = cells[order]
        first = torch.ones_like(sorted_cells, dtype=torch.bool)
        first[1:] = sorted_cells[1:] != sorted_cells[:-1]
        steps = torch.arange(cells.numel(), device=cells.device)
        start = torch.cummax(torch.where(first, steps, 0), 0).values
        rank = torch.empty_like(cells)
        rank[order] = steps - start
        for r in range(int(rank.max()) + 1 if rank.numel() else 0):
            sel = (rank == r).nonzero(as_tuple=True)[0]
            cell = cells[sel]
            g_r = g[:, sel]
            acc[:, cell] = fma32(weights[sel].expand_as(g_r), g_r,
                                 acc[:, cell])
        grad_x = acc.view(d, n, h, w).transpose(0, 1).to(ctx.dtype)
        return grad_x.contiguous(), None, None, None


_LANES = 64


class _ContiguousGrad(torch.autograd.Function):
    """Identity whose backward makes the gradient contiguous (so that the
    normalization's backward reduces it as on the full map)."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return grad.contiguous()


def upsample_normalize_at(x: Tensor,
                          pos: Tensor,
                          size: Tuple[int, int],
                          *,
                          align_corners: bool = False,
                          normalize: bool = True) -> Tensor:
    """Embeddings of the upsampled (and normalized) map at ``K`` positions.

    Args:
        x (Tensor): ``N x D x h x w`` embeddings.
        pos (Tensor): ``K`` long flat positions into ``N x H x W`` (``size``
            is ``(H, W)``), distinct and ascending (``torch.unique``'s
            output), which the bit-identical backward needs.
        size (tuple[int, int]): The grid ``(H, W)`` that ``x`` is upsampled
            to (``F.interpolate(mode='bilinear')``).
        align_corners (bool): ``F.interpolate``'s. Default: False.
        normalize (bool): L2-normalize along ``D`` after upsampling (as
            ``F.normalize(dim=1)`` on the upsampled map). Default: True.

    Returns:
        Tensor: ``K x D`` (a transposed view of ``D x K``).
    """
    if x.dim() != 4:
        raise ValueError('upsample_normalize_at: `x` must be N x D x h x w, '
                         f'got shape {tuple(x.shape)}.')
    if tuple(x.shape[2:]) == tuple(size):
        n, d, h, w = x.shape
        vals = x.transpose(0, 1).reshape(d, n * h * w)[:, pos]
    else:
        vals = _BilinearAt.apply(x, pos, tuple(size), bool(align_corners))
    if normalize:
        # The norm's backward reduces over D with the positions vectorized
        # in lanes; padded to whole lane blocks, every position takes the
        # vector path, as every pixel of a full map does (for ``H * W`` a
        # multiple of 64, e.g. 256 x 512; otherwise the map's last pixels
        # take the scalar path and agree to float rounding).
        k = vals.shape[1]
        padded = F.pad(vals, (0, -k % _LANES))
        vals = _ContiguousGrad.apply(
            F.normalize(padded[None], dim=1)[0, :, :k])
    return vals.t()
