"""Time and peak memory of PixelContrastLoss, forward + backward, on CPU.

Setting: two views (target and source-stylized target), batch 1, D = 256
embeddings on the output-stride-8 grid of a 512x512, 1024x512 and 2048x1024
input, labels at full input size (19 classes with a Cityscapes-like skew,
about 10% ignored). Rows: the defaults (class-balanced, at most 1024 anchors),
the method's original sampling (2000 uniform pixels), and a plain all-pixels
SupCon (``sampling=None``) where it fits under ``--max-dense-gib``.

Memory is measured with ``torch.profiler`` (``profile_memory=True``): every
CPU tensor allocation and free between the start of the forward and the end of
the backward is recorded with its address and size; the running sum of those
events, maximised, is the peak. Tensors that exist before (embeddings,
labels) are not counted. Two peaks are reported: *total* (everything), and
*working* (everything except the buffers that become the embeddings'
``.grad``: ``views x D x h x w x 4`` bytes that any loss on these tensors
produces, since autograd's gradient of a dense tensor is dense; a network
allocates it anyway). ``max_samples`` bounds the working memory.

Usage::

    OMP_NUM_THREADS=1 python tools/benchmarks/bench_losses.py [--reps 5]
"""
import argparse
import os.path as osp
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from harness import cpu_allocations  # noqa: E402

import mmseg_fdacl.models.losses.supcon as pcl  # noqa: E402
from mmseg_fdacl.models.losses.pixel_contrast_loss import \
    PixelContrastLoss  # noqa: E402

SIZES = ((512, 512), (1024, 512), (2048, 1024))  # (W, H) of the input
STRIDE = 8
EMBED_DIM = 256
NUM_VIEWS = 2
MIB = 2**20


def make_inputs(width: int, height: int, labels: str = 'skewed',
                seed: int = 0):
    """Two embedding views (leaf tensors) and a full-size label map.

    ``labels='skewed'``: class frequencies fall off geometrically (0.7^c), so
    the first classes dominate and the last ones are rare, like Cityscapes.
    ``labels='even'``: all 19 classes equally frequent, so every class fills
    its quota and the anchor budget is used in full (the worst case).
    """
    g = torch.Generator().manual_seed(seed)
    h, w = height // STRIDE, width // STRIDE
    embs = [
        F.normalize(torch.randn(1, EMBED_DIM, h, w, generator=g),
                    dim=1).requires_grad_(True) for _ in range(NUM_VIEWS)
    ]
    decay = 0.7 if labels == 'skewed' else 1.0
    freq = torch.tensor([decay**c for c in range(19)])
    cells = torch.multinomial(
        freq / freq.sum(), (height // 16) * (width // 16),
        replacement=True, generator=g).view(1, 1, height // 16, width // 16)
    label_map = F.interpolate(cells.float(), size=(height, width),
                              mode='nearest')[:, 0].long()
    label_map[torch.rand(label_map.shape, generator=g) < 0.1] = 255
    return embs, label_map


def measure(loss_fn, embs, labels, reps: int):
    """Median fwd+bwd seconds and the peak bytes of one fwd+bwd.

    Returns:
        tuple: ``(seconds, peak_total, peak_working, anchors)``; the working
        peak leaves out the buffers that end up as the embeddings' ``.grad``;
        ``anchors`` is how many anchors the loss contrasted.
    """
    anchors = []
    real_supcon = pcl.supcon_loss

    def counting_supcon(feats, labels, **kwargs):
        anchors.append(feats.shape[0])
        return real_supcon(feats, labels, **kwargs)

    pcl.supcon_loss = counting_supcon
    times = []
    for _ in range(reps):
        for e in embs:
            e.grad = None
        start = time.perf_counter()
        loss_fn(embs, labels).backward()
        times.append(time.perf_counter() - start)
    for e in embs:
        e.grad = None
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        loss_fn(embs, labels).backward()
    events = cpu_allocations(p, with_ptr=True)
    grad_ptrs = {e.grad.data_ptr() for e in embs}
    # The last allocation at a .grad address is that gradient's buffer.
    grad_events = set()
    for i in range(len(events) - 1, -1, -1):
        _, ptr, nbytes = events[i]
        if ptr in grad_ptrs and nbytes > 0:
            grad_events.add(i)
            grad_ptrs.discard(ptr)
    live = working = peak = peak_working = 0
    for i, (_, _, nbytes) in enumerate(events):
        live += nbytes
        peak = max(peak, live)
        if i not in grad_events:
            working += nbytes
            peak_working = max(peak_working, working)
    for e in embs:
        e.grad = None
    pcl.supcon_loss = real_supcon
    return statistics.median(times), peak, peak_working, anchors[-1]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument(
        '--max-dense-gib',
        type=float,
        default=2.0,
        help='skip the all-pixels SupCon when its extrapolated peak exceeds '
        'this many GiB (the machine is shared)')
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread(s); '
          f'{NUM_VIEWS} views, batch 1, D={EMBED_DIM}, output stride '
          f'{STRIDE}; peaks = max live bytes allocated during fwd+bwd '
          '(torch.profiler allocation events), inputs excluded\n')
    variants = [
        ('balanced (defaults)', PixelContrastLoss()),
        ("uniform 2000 (the method's)",
         PixelContrastLoss(sampling='uniform', max_samples=2000)),
        ('all pixels (plain SupCon)', PixelContrastLoss(sampling=None)),
    ]
    print('| input WxH | grid | labels | variant | anchors | fwd+bwd ms | '
          'total peak MiB | working peak MiB |')
    print('|---|---|---|---|---|---|---|---|')
    dense_bytes_per_pair = None
    summary = {}
    for label_mix in ('skewed', 'even'):
        for width, height in SIZES:
            embs, labels = make_inputs(width, height, label_mix)
            h, w = height // STRIDE, width // STRIDE
            grad_bytes = NUM_VIEWS * EMBED_DIM * h * w * 4
            row = f'| {width}x{height} | {w}x{h} | {label_mix} |'
            for name, loss_fn in variants:
                reps = args.reps
                if loss_fn.sampling is None:
                    if label_mix != 'skewed':
                        continue
                    grid_labels = F.interpolate(
                        labels[:, None].float(), (h, w), mode='nearest')
                    anchors = NUM_VIEWS * int((grid_labels != 255).sum())
                    if dense_bytes_per_pair is not None:
                        need = dense_bytes_per_pair * anchors**2 + grad_bytes
                        if need > args.max_dense_gib * 2**30:
                            print(f'{row} {name} | {anchors} | skipped | '
                                  f'skipped: would need ~'
                                  f'{need / 2**30:.1f} GiB | |')
                            continue
                    reps = 1
                sec, peak, working, anchors = measure(
                    loss_fn, embs, labels, reps)
                if loss_fn.sampling is None:
                    dense_bytes_per_pair = working / anchors**2
                else:
                    summary.setdefault((name, label_mix), []).append(
                        (peak, working))
                print(f'{row} {name} | {anchors} | {sec * 1e3:.1f} | '
                      f'{peak / MIB:.1f} | {working / MIB:.1f} |')
            del embs, labels
    print()
    for (name, label_mix), values in summary.items():
        for idx, what in ((0, 'total peak'), (1, 'working peak')):
            vals = [v[idx] for v in values]
            spread = (max(vals) - min(vals)) / min(vals)
            print(f'{name}, {label_mix} labels: {what} '
                  f'{min(vals) / MIB:.1f}-{max(vals) / MIB:.1f} MiB from '
                  f'512x512 to 2048x1024 (spread {100 * spread:.1f}%)')
    if dense_bytes_per_pair is not None:
        print(f'all-pixels SupCon: {dense_bytes_per_pair:.1f} working bytes '
              'per anchor pair (measured at the largest size it ran), used '
              'to extrapolate the skipped sizes')


if __name__ == '__main__':
    main()
