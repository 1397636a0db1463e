"""Where a stage-2 iteration's time goes, and torch.profiler tables.

``bench_train_iter.py --breakdown`` and ``--profile``:

* ``FDA``: the :func:`fda_amplitude_swap` calls inside the UDA preprocessor
  (a timer around the function, installed here only);
* ``losses``: forward + backward of the loss functions (source CE, entropy,
  contrastive) replayed on the iteration's own inputs, detached;
* ``data loading``: one batch of the real ``UDADataset`` (generated images
  on disk, PNG decode, the stage-2 pipelines with pseudo labels) through a
  ``DataLoader`` with ``num_workers=0``, i.e. its cost if not overlapped
  (the configs' persistent workers overlap it with the iteration);
* :func:`profile_tables`: the top operators by self CPU time of one
  iteration per mode.
"""
import contextlib
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Callable, Dict, Sequence

import numpy as np
import torch

import mmseg_fdacl.models.data_preprocessor as udapp
from harness import time_iters
from mmseg_fdacl.demo.batches import fresh_batch, random_image, random_labels


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
        batch = model.data_preprocessor(fresh_batch(data), True)
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

    calls = [(m, detach(a), {
        k: detach(v)
        for k, v in kw.items()
    }) for m, a, kw in calls]

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
        cv2.imwrite(
            osp.join(src_root, 'images', f'{i:05d}.png'),
            random_image(rng, h, w))
        cv2.imwrite(
            osp.join(src_root, 'labels', f'{i:05d}_labelTrainIds.png'),
            random_labels(rng, h, w, 19))
        img_path = osp.join(trg_img_root, 'city',
                            f'city_{i:06d}_000019_leftImg8bit.png')
        cv2.imwrite(img_path, random_image(rng, h, w))
        pl = pseudo_label_path(img_path, trg_img_root, pl_dir)
        os.makedirs(osp.dirname(pl), exist_ok=True)
        cv2.imwrite(pl, random_labels(rng, h, w, 19))
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


def breakdown(model,
              optim,
              data: dict,
              iters: int,
              crop,
              batch: int,
              iter_seconds: float,
              device: str = 'cpu') -> Dict[str, float]:
    """Seconds per stage-2 iteration in FDA, the losses and data loading."""
    totals: Dict[str, float] = {}
    with timed_fda(totals):
        time_iters(model, optim, data, iters, device)
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


def profile_tables(models: Dict[str, tuple],
                   batches: Dict[str, dict],
                   row_limit: int = 15) -> str:
    """torch.profiler tables (self CPU time) of one iteration per mode;
    ``models`` maps a name to ``(model, optim_wrapper, ema)``."""
    from torch.profiler import ProfilerActivity, profile
    out = []
    for name, (model, optim, ema) in models.items():
        time_iters(model, optim, batches[name], 1, ema=ema)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            time_iters(model, optim, batches[name], 1, ema=ema)
        out.append(f'### {name}\n```\n' + prof.key_averages().table(
            sort_by='self_cpu_time_total', row_limit=row_limit) + '```\n')
    return '\n'.join(out)
