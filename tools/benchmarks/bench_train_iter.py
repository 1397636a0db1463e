"""Training-iteration time of stage 2 and stage 1 against source-only.

The same DeepLabV2 model (ResNetV1c trunk, output stride 8, DLV2Head; depth
and width from the command line), crop and batch, three ways:

* ``source-only``: :class:`mmseg.models.EncoderDecoder` with
  ``SegDataPreProcessor``, cross-entropy on the source (one view);
* ``stage1``: :class:`UDAEncoderDecoder` + :class:`UDADataPreProcessor`,
  grayscale source and target, source CE + target entropy (two views);
* ``stage2``: FDA source->target and target->source (beta 0.01), source CE,
  target entropy and the pixel contrastive loss between the target and its
  source-stylized copy on the pseudo labels (the stage-2 config's settings:
  logits as embeddings, 2000 uniform pixels), warm-up 0 so every term is on
  (three views, each with gradients).

Each iteration is the runner's own path, ``model.train_step(data,
optim_wrapper)`` (preprocessor, forward, loss parsing, backward, SGD step), on
batches built once in memory (uint8 images and labels as the dataloader
collates them), so data loading is measured on its own (below). The modes are
timed interleaved (``--reps`` rounds; each round times ``--iters`` iterations
of every mode, in a rotating order) and each figure is the median; the
stage-2/source-only ratio is also given as the median of the per-round ratios,
which cancels load drifts of the shared machine.

Stage-2 breakdown (``--breakdown``): seconds per iteration spent in

* ``FDA``: the two :func:`fda_amplitude_swap` calls inside the preprocessor
  (a timer around the function, installed by this script only);
* ``losses``: forward + backward of the loss functions (source CE, entropy,
  contrastive) replayed on the iteration's own inputs, detached;
* ``data loading``: one batch of the real ``UDADataset`` (generated images
  on disk, PNG decode, the stage-2 pipelines with pseudo labels) through a
  ``DataLoader`` with ``num_workers=0``, i.e. its cost if not overlapped;
  with ``persistent_workers`` the configs overlap it with the iteration.

``--profile`` prints the torch.profiler table (top operators by self CPU
time) of one stage-2 and one source-only iteration.

Usage::

    OMP_NUM_THREADS=1 python tools/benchmarks/bench_train_iter.py \
        [--depth 18 --base-channels 16 --crop 256 512 --batch 1 --reps 7]
"""
import argparse
import contextlib
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmseg_fdacl  # noqa: E402,F401  (registers the modules)
import mmseg_fdacl.models.data_preprocessor as udapp  # noqa: E402
from mmseg_fdacl.demo.batches import fresh_batch as _fresh  # noqa: E402
from mmseg_fdacl.demo.batches import make_batch  # noqa: E402,F401
from mmseg_fdacl.demo.batches import random_image as _smooth  # noqa: E402
from mmseg_fdacl.demo.batches import random_labels as _labels  # noqa: E402
from mmseg_fdacl.demo.models import UDA_MODES as MODES  # noqa: E402
from mmseg_fdacl.demo.models import build_trainable as build  # noqa: E402
from mmseg_fdacl.demo.models import deeplabv2_cfg  # noqa: E402
from mmseg_fdacl.demo.models import uda_mode_cfg as mode_cfg  # noqa: E402

VIEWS = {'source-only': 1, 'stage1': 2, 'stage2': 3}


# -- timing -----------------------------------------------------------------
def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def amp_context(amp: Optional[str], device: str):
    """Autocast for ``amp`` ('bf16', 'fp16' or None) on ``device``."""
    if amp is None:
        return contextlib.nullcontext()
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16)[amp]
    return torch.autocast(device_type=device.split(':')[0], dtype=dtype)


def time_iters(model, optim, data: dict, iters: int, device: str = 'cpu',
               amp: Optional[str] = None) -> float:
    """Median seconds of one ``train_step`` over ``iters`` iterations."""
    times = []
    for _ in range(iters):
        batch = _fresh(data)
        _sync(device)
        t0 = time.perf_counter()
        with amp_context(amp, device):
            log = model.train_step(batch, optim)
        _sync(device)
        times.append(time.perf_counter() - t0)
        if not torch.isfinite(log['loss']):
            raise FloatingPointError(f'non-finite loss: {log}')
    return statistics.median(times)


def compare(models: Dict[str, tuple],
            batches: Dict[str, dict],
            reps: int,
            iters: int,
            warmup: int = 1,
            device: str = 'cpu',
            amp: Optional[str] = None,
            amps: Optional[Dict[str, Optional[str]]] = None
            ) -> Dict[str, List[float]]:
    """Interleaved rounds; returns seconds/iteration per entry per round.

    ``amps`` gives an entry its own precision (default ``amp`` for all), so
    precisions are interleaved too.
    """
    names = list(models)
    amps = amps or {}
    for name in names:
        time_iters(*models[name], batches[name], warmup, device,
                   amps.get(name, amp))
    out = {name: [] for name in names}
    for r in range(reps):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            out[name].append(
                time_iters(*models[name], batches[name], iters, device,
                           amps.get(name, amp)))
    return out


def gradient_views(model, data: dict) -> List[float]:
    """Gradient norm reaching the backbone features of each view.

    ``extract_feat`` is wrapped for one forward/backward so the features of
    every call (or, with ``forward_views='joint'``, every chunk of the joint
    batch) keep their gradient; a view with norm 0 would not train.
    """
    feats = []
    orig = model.extract_feat

    def extract_feat(inputs):
        out = orig(inputs)
        for f in out:
            f.retain_grad()
        feats.append((out[-1], inputs.shape[0]))
        return out

    model.extract_feat = extract_feat
    try:
        model.zero_grad()
        batch = model.data_preprocessor(_fresh(data), True)
        losses = model(**batch, mode='loss')
        loss, _ = model.parse_losses(losses)
        loss.backward()
    finally:
        del model.extract_feat
    model.zero_grad()
    n = len(data['inputs'])
    norms = []
    for feat, size in feats:
        for chunk in feat.grad.split(n):
            norms.append(float(chunk.norm()))
    return norms


# -- stage-2 breakdown ------------------------------------------------------
@contextlib.contextmanager
def timed_fda(totals: Dict[str, float]):
    """Time every ``fda_amplitude_swap`` call of the UDA preprocessor."""
    orig = udapp.fda_amplitude_swap

    def fda(*args, **kwargs):
        t0 = time.perf_counter()
        out = orig(*args, **kwargs)
        totals['fda'] = totals.get('fda', 0.0) + time.perf_counter() - t0
        return out

    udapp.fda_amplitude_swap = fda
    try:
        yield
    finally:
        udapp.fda_amplitude_swap = orig


def loss_replay(model, data: dict) -> Callable[[], None]:
    """A function running the iteration's loss functions forward + backward
    on detached copies of their inputs (captured with forward hooks)."""
    calls = []

    def grab(module):
        def hook(mod, args, kwargs):
            calls.append((mod, args, kwargs))
        return module.register_forward_pre_hook(hook, with_kwargs=True)

    decode_losses = model.decode_head.loss_decode
    if isinstance(decode_losses, torch.nn.Module) and not isinstance(
            decode_losses, torch.nn.ModuleList):
        decode_losses = [decode_losses]
    handles = [
        grab(m)
        for m in (model.entropy_loss, model.contrast_loss, *decode_losses)
    ]
    try:
        batch = model.data_preprocessor(_fresh(data), True)
        model(**batch, mode='loss')
    finally:
        for h in handles:
            h.remove()

    def detach(x):
        if isinstance(x, torch.Tensor):
            if x.is_floating_point():
                return x.detach().clone().requires_grad_(True)
            return x.detach().clone()
        if isinstance(x, (list, tuple)):
            return type(x)(detach(v) for v in x)
        return x

    calls = [(m, detach(a), {k: detach(v)
                             for k, v in kw.items()}) for m, a, kw in calls]

    def run():
        total = 0
        for mod, args, kwargs in calls:
            total = total + mod(*args, **kwargs).sum()
        total.backward()

    return run


def loader_seconds(crop: Sequence[int], batch: int, iters: int,
                   root: str) -> float:
    """Median seconds per stage-2 batch of the real UDADataset pipeline."""
    import cv2
    from mmengine.dataset import pseudo_collate
    from mmseg.registry import DATASETS
    from torch.utils.data import DataLoader

    from mmseg_fdacl.utils import pseudo_label_path
    h, w = crop
    rng = np.random.default_rng(0)
    n = max(4, batch * 2)
    src_root, trg_root = osp.join(root, 'gta5'), osp.join(root, 'cityscapes')
    trg_img_root = osp.join(trg_root, 'leftImg8bit', 'train')
    pl_dir = osp.join(root, 'pseudo_labels')
    for sub in ('images', 'labels'):
        os.makedirs(osp.join(src_root, sub), exist_ok=True)
    os.makedirs(osp.join(trg_img_root, 'city'), exist_ok=True)
    for i in range(n):
        cv2.imwrite(osp.join(src_root, 'images', f'{i:05d}.png'),
                    _smooth(rng, h, w))
        cv2.imwrite(
            osp.join(src_root, 'labels', f'{i:05d}_labelTrainIds.png'),
            _labels(rng, h, w, 19))
        img_path = osp.join(trg_img_root, 'city',
                            f'city_{i:06d}_000019_leftImg8bit.png')
        cv2.imwrite(img_path, _smooth(rng, h, w))
        pl = pseudo_label_path(img_path, trg_img_root, pl_dir)
        os.makedirs(osp.dirname(pl), exist_ok=True)
        cv2.imwrite(pl, _labels(rng, h, w, 19))
    dataset = DATASETS.build(
        dict(
            type='UDADataset',
            source=dict(
                type='GTA5Dataset',
                data_root=src_root,
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='LoadAnnotations'),
                    dict(type='RandomCrop', crop_size=tuple(crop)),
                    dict(type='RandomFlip', prob=0.5),
                    dict(type='PackSegInputs')
                ]),
            target=dict(
                type='CityscapesDataset',
                data_root=trg_root,
                data_prefix=dict(img_path='leftImg8bit/train'),
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='LoadPseudoLabel'),
                    dict(type='RandomFlip', prob=0.5),
                    dict(type='PackSegInputs')
                ]),
            pairing='random',
            seed=0,
            pseudo_label_dir=pl_dir))
    loader = DataLoader(
        dataset,
        batch_size=batch,
        shuffle=True,
        num_workers=0,
        collate_fn=pseudo_collate)
    times = []
    it = iter(loader)
    for i in range(iters + 1):
        t0 = time.perf_counter()
        try:
            next(it)
        except StopIteration:
            it = iter(loader)
            next(it)
        if i:  # the first batch opens files and builds caches
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def breakdown(model, optim, data: dict, iters: int, crop, batch: int,
              iter_seconds: float) -> Dict[str, float]:
    """Seconds per stage-2 iteration in FDA, the losses and data loading."""
    totals: Dict[str, float] = {}
    with timed_fda(totals):
        time_iters(model, optim, data, iters)
    replay = loss_replay(model, data)
    replay()
    loss_times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        replay()
        loss_times.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as root:
        load = loader_seconds(crop, batch, iters, root)
    return dict(
        fda=totals['fda'] / iters,
        losses=statistics.median(loss_times),
        data=load,
        iteration=iter_seconds)


def profile_tables(models: Dict[str, tuple], batches: Dict[str, dict],
                   row_limit: int = 15) -> str:
    """torch.profiler tables (self CPU time) of one iteration per mode."""
    from torch.profiler import ProfilerActivity, profile
    out = []
    for name, (model, optim) in models.items():
        time_iters(model, optim, batches[name], 1)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            model.train_step(_fresh(batches[name]), optim)
        out.append(f'### {name}\n```\n' + prof.key_averages().table(
            sort_by='self_cpu_time_total', row_limit=row_limit) + '```\n')
    return '\n'.join(out)


# -- command line -----------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--depth', type=int, default=18)
    parser.add_argument('--base-channels', type=int, default=16)
    parser.add_argument(
        '--crop', type=int, nargs=2, default=(256, 512), metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--reps', type=int, default=7)
    parser.add_argument('--iters', type=int, default=2)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--forward-views',
        choices=('separate', 'joint', 'both'),
        default='both',
        help="UDAEncoderDecoder.forward_views of the UDA modes; 'both' "
        'times stage 2 both ways')
    parser.add_argument(
        '--amp',
        choices=('none', 'bf16', 'both'),
        default='none',
        help="CPU bf16 autocast; 'both' interleaves fp32 and bf16 rounds")
    parser.add_argument('--breakdown', action='store_true')
    parser.add_argument('--profile', action='store_true')
    return parser.parse_args(argv)


def _fmt_ms(sec: float) -> str:
    return f'{sec * 1e3:.1f}'


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    crop = tuple(args.crop)
    base = deeplabv2_cfg(
        depth=args.depth, base_channels=args.base_channels, crop=crop)
    views = (['separate', 'joint']
             if args.forward_views == 'both' else [args.forward_views])
    models, batches = {}, {}
    for mode in MODES:
        for fv in (views if mode != 'source-only' else ['-']):
            key = mode if fv in ('-', 'separate') else f'{mode} (joint)'
            if mode == 'stage1' and fv == 'joint' and len(views) > 1:
                continue
            models[key] = build(mode_cfg(mode, base, fv if fv != '-' else
                                         'separate'))
            batches[key] = make_batch(mode, args.batch, crop)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread(s); '
          f'DeepLabV2 ResNetV1c-{args.depth} (base channels '
          f'{args.base_channels}, output stride 8, DLV2Head), crop '
          f'{crop[0]}x{crop[1]} (HxW), batch {args.batch}, random weights, '
          f'SGD; {args.reps} interleaved rounds x {args.iters} iterations, '
          f'medians\n')

    # every view of stage 2 must receive gradients
    for key in models:
        if key.startswith('stage2'):
            norms = gradient_views(models[key][0], batches[key])
            print(f'{key}: gradient norm at the backbone output per view '
                  f'(source, target, source-stylized target): '
                  + ', '.join(f'{v:.3g}' for v in norms))
            if len(norms) != 3 or min(norms) <= 0:
                raise RuntimeError(f'{key}: a view gets no gradient: {norms}')
    print()

    amps = dict(none=[None], bf16=['bf16'], both=[None, 'bf16'])[args.amp]
    entries, entry_batches, entry_amps = {}, {}, {}
    for amp in amps:
        for key in models:
            entries[(amp, key)] = models[key]
            entry_batches[(amp, key)] = batches[key]
            entry_amps[(amp, key)] = amp
    # every mode and precision in the same interleaved rounds
    res = compare(entries, entry_batches, args.reps, args.iters,
                  amps=entry_amps)
    rows = []
    for amp in amps:
        base_times = res[(amp, 'source-only')]
        med_base = statistics.median(base_times)
        tag = 'fp32' if amp is None else amp + ' autocast'
        speed = amp is not None and None in amps
        print(f'| precision | mode | views | s/iter (median) | x source-only '
              f'(ratio of medians) | x source-only (median of per-round '
              f'ratios) | rounds min-max ratio |'
              + (' fp32 / bf16 time (median of per-round ratios) |'
                 if speed else ''))
        print('|---|---|---|---|---|---|---|' + ('---|' if speed else ''))
        for key in models:
            times = res[(amp, key)]
            med = statistics.median(times)
            ratios = [t / b for t, b in zip(times, base_times)]
            row = dict(
                precision=tag,
                mode=key,
                views=VIEWS[key.split(' ')[0]],
                s_iter=med,
                ratio=med / med_base,
                ratio_paired=statistics.median(ratios),
                ratio_min=min(ratios),
                ratio_max=max(ratios))
            extra = ''
            if speed:
                row['amp_speedup'] = statistics.median(
                    [f / t for f, t in zip(res[(None, key)], times)])
                extra = f' {row["amp_speedup"]:.2f} |'
            rows.append(row)
            print(f'| {tag} | {key} | {row["views"]} | {med:.3f} | '
                  f'{row["ratio"]:.2f} | {row["ratio_paired"]:.2f} | '
                  f'{row["ratio_min"]:.2f}-{row["ratio_max"]:.2f} |' + extra)
        print()

    if args.breakdown:
        key = 'stage2'
        s_iter = statistics.median(
            [r['s_iter'] for r in rows if r['mode'] == key
             and r['precision'] == 'fp32'] or [rows[-1]['s_iter']])
        parts = breakdown(*models[key], batches[key], max(args.iters, 3),
                          crop, args.batch, s_iter)
        print(f'| stage-2 part (forward_views=separate) | ms/iter | share '
              f'of the {_fmt_ms(s_iter)} ms iteration |')
        print('|---|---|---|')
        for name, label in (('fda', 'FDA (2 calls, in the preprocessor)'),
                            ('losses', 'losses fwd+bwd (CE, entropy, '
                             'contrastive)'),
                            ('data', 'data loading, 1 batch, num_workers=0 '
                             '(overlapped by workers in training)')):
            print(f'| {label} | {_fmt_ms(parts[name])} | '
                  f'{100 * parts[name] / s_iter:.1f}% |')
            rows.append(dict(part=name, seconds=parts[name],
                             share=parts[name] / s_iter))
        print()
    if args.profile:
        sub = {k: models[k] for k in ('source-only', 'stage2')}
        print(profile_tables(sub, batches))
    return rows


if __name__ == '__main__':
    main()
