"""Training-iteration time of stage 2, stage 1 and online self-training
against source-only.

The same DeepLabV2 model (ResNetV1c trunk, output stride 8, DLV2Head; depth
and width from the command line), crop and batch, in the modes of
:mod:`mmseg_fdacl.demo.models` (``--modes``, default all):

* ``source-only``: :class:`mmseg.models.EncoderDecoder` with
  ``SegDataPreProcessor``, cross-entropy on the source (one view);
* ``stage1``: :class:`UDAEncoderDecoder` + :class:`UDADataPreProcessor`,
  grayscale source and target, source CE + target entropy (two views);
* ``stage2``: FDA source->target and target->source (beta 0.01), source CE,
  target entropy and the pixel contrastive loss between the target and its
  source-stylized copy on the pseudo labels (the stage-2 config's settings:
  logits as embeddings, 2000 uniform pixels; the loss's default
  ``form='supcon'`` at weight 0.1, where the stage-2 config has
  ``'cross_view'`` at 1), warm-up 0 so every term is on (three views, each
  with gradients);
* ``dacs``: :class:`SelfTrainingEncoderDecoder`: the mean teacher's pseudo
  labels on the target (one forward without gradients), source CE and CE on
  the ClassMix image after DACS' colour jitter and blur (two views);
* ``mic``: ``dacs`` plus MIC's masked target image (three views; blocks of
  ``crop_h // 8`` pixels, at least 8: MIC's 64 at 512-high crops);
* ``fda-cl-online``: ``dacs`` plus FDA both ways (beta 0.01), the teacher
  on the target in the source style, entropy and the cross-view pixel
  contrast of the logits (four views).

The online modes get their teacher as ``MeanTeacherHook`` gives it (there is
no runner here): :class:`TeacherEMA` (alpha 0.999) started as a copy of the
student and attached with ``attach_teacher``; every timed iteration includes
its EMA update (``ema.update_parameters``), which the hook runs after each
optimizer step. ClassMix needs source and target crops of one size (both are
``--crop``).

Each iteration is the runner's own path, ``model.train_step(data,
optim_wrapper)`` (preprocessor, forward, loss parsing, backward, SGD step), on
batches built once in memory (uint8 images and labels as the dataloader
collates them), so data loading is measured on its own (below). The modes are
timed interleaved (``--reps`` rounds; each round times ``--iters`` iterations
of every mode, in a rotating order) and each figure is the median; the
stage-2/source-only ratio is also given as the median of the per-round ratios,
which cancels load drifts of the shared machine.

Per mode, outside the timed rounds:

* peak memory of one iteration (with the EMA update): on CUDA
  ``torch.cuda.max_memory_allocated`` above what was allocated at its start,
  on CPU the ``torch.profiler`` allocation peak of the iteration (as
  ``bench_fda.py``); both plus the mode's resident tensors (weights and
  buffers of the student and the teacher, SGD momentum), so a figure is what
  the mode alone would hold at its peak;
* the teacher's share of an online iteration: seconds in
  ``SelfTrainingEncoderDecoder._teacher_logits`` (the teacher's forward; a
  timer around the method, installed by this script only) plus the EMA
  update, over the seconds of the same iterations.

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
        [--depth 18 --base-channels 16 --crop 256 512 --batch 1 --reps 7] \
        [--modes source-only stage2 dacs mic fda-cl-online]
"""
import argparse
import contextlib
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

# importing the package registers its modules
import mmseg_fdacl.models.data_preprocessor as udapp  # noqa: E402
from bench_fda import torch_peak_bytes  # noqa: E402
from mmseg_fdacl.demo.batches import fresh_batch as _fresh  # noqa: E402
from mmseg_fdacl.demo.batches import make_batch  # noqa: E402,F401
from mmseg_fdacl.demo.batches import random_image as _smooth  # noqa: E402
from mmseg_fdacl.demo.batches import random_labels as _labels  # noqa: E402
from mmseg_fdacl.demo.models import ONLINE_MODES  # noqa: E402
from mmseg_fdacl.demo.models import UDA_MODES as MODES  # noqa: E402
from mmseg_fdacl.demo.models import build_teacher  # noqa: E402
from mmseg_fdacl.demo.models import build_trainable as build  # noqa: E402
from mmseg_fdacl.demo.models import deeplabv2_cfg  # noqa: E402
from mmseg_fdacl.demo.models import uda_mode_cfg as mode_cfg  # noqa: E402
from mmseg_fdacl.models.segmentors import (  # noqa: E402
    SelfTrainingEncoderDecoder)

#: The views each mode forwards with gradients, in the order of the forward
#: passes (the online modes' teacher forward, without gradients, is not one).
VIEW_NAMES = {
    'source-only': ('source', ),
    'stage1': ('source', 'target'),
    'stage2': ('source', 'target', 'source-stylized target'),
    'dacs': ('source', 'ClassMix'),
    'mic': ('source', 'ClassMix', 'masked target'),
    'fda-cl-online': ('source', 'target', 'source-stylized target',
                      'ClassMix'),
}
VIEWS = {mode: len(names) for mode, names in VIEW_NAMES.items()}
#: ``(model, optim_wrapper, teacher EMA or None)`` of one mode.
Trainable = Tuple[torch.nn.Module, object, Optional[torch.nn.Module]]


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


def time_iters(model,
               optim,
               data: dict,
               iters: int,
               device: str = 'cpu',
               amp: Optional[str] = None,
               ema: Optional[torch.nn.Module] = None,
               totals: Optional[Dict[str, float]] = None) -> float:
    """Median seconds of one ``train_step`` over ``iters`` iterations.

    Args:
        model, optim: The segmentor and its optim wrapper.
        data (dict): A collated batch (copied per iteration).
        iters (int): Iterations.
        device (str): Where the model is (CUDA is synchronized around each
            iteration). Default: 'cpu'.
        amp (str, optional): Autocast precision (:func:`amp_context`).
        ema (TeacherEMA, optional): The online modes' teacher average,
            updated after each step inside the timed iteration.
        totals (dict, optional): Adds the seconds of all iterations to
            ``'iteration'`` and those of the EMA updates to ``'ema'``.

    Returns:
        float: The median seconds per iteration.
    """
    times = []
    for _ in range(iters):
        batch = _fresh(data)
        _sync(device)
        t0 = time.perf_counter()
        with amp_context(amp, device):
            log = model.train_step(batch, optim)
        if ema is not None:
            if totals is not None:
                _sync(device)
                t_ema = time.perf_counter()
            ema.update_parameters(model)  # MeanTeacherHook.after_train_iter
            if totals is not None:
                _sync(device)
                totals['ema'] = (totals.get('ema', 0.0) +
                                 time.perf_counter() - t_ema)
        _sync(device)
        times.append(time.perf_counter() - t0)
        if not torch.isfinite(log['loss']):
            raise FloatingPointError(f'non-finite loss: {log}')
    if totals is not None:
        totals['iteration'] = totals.get('iteration', 0.0) + sum(times)
    return statistics.median(times)


def build_mode(cfg: dict, device: str = 'cpu') -> Trainable:
    """A mode's model and SGD optim wrapper, and for the online modes its
    teacher (:func:`build_teacher`, alpha 0.999, attached)."""
    model, optim = build(cfg, device=device)
    return model, optim, build_teacher(model, alpha=0.999)


def compare(models: Dict[str, Trainable],
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
        model, optim, ema = models[name]
        time_iters(model, optim, batches[name], warmup, device,
                   amps.get(name, amp), ema)
    out = {name: [] for name in names}
    for r in range(reps):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            model, optim, ema = models[name]
            out[name].append(
                time_iters(model, optim, batches[name], iters, device,
                           amps.get(name, amp), ema))
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


# -- online modes: the teacher's share; memory ------------------------------
@contextlib.contextmanager
def timed_teacher(totals: Dict[str, float], device: str = 'cpu'):
    """Time every teacher forward,
    ``SelfTrainingEncoderDecoder._teacher_logits``, into
    ``totals['teacher']``."""
    orig = SelfTrainingEncoderDecoder._teacher_logits

    def teacher_logits(self, view):
        _sync(device)
        t0 = time.perf_counter()
        out = orig(self, view)
        _sync(device)
        totals['teacher'] = (totals.get('teacher', 0.0) +
                             time.perf_counter() - t0)
        return out

    SelfTrainingEncoderDecoder._teacher_logits = teacher_logits
    try:
        yield
    finally:
        SelfTrainingEncoderDecoder._teacher_logits = orig


def teacher_share(model,
                  optim,
                  ema: torch.nn.Module,
                  data: dict,
                  iters: int,
                  device: str = 'cpu',
                  amp: Optional[str] = None) -> Dict[str, float]:
    """Seconds per online iteration in the teacher's forward and the EMA
    update, and their share of the same iterations' seconds."""
    totals: Dict[str, float] = {}
    with timed_teacher(totals, device):
        time_iters(model, optim, data, iters, device, amp, ema, totals)
    out = {k: totals.get(k, 0.0) / iters for k in ('teacher', 'ema',
                                                    'iteration')}
    out['share'] = (out['teacher'] + out['ema']) / out['iteration']
    return out


def resident_bytes(model, optim, ema: Optional[torch.nn.Module]) -> int:
    """Bytes of the tensors a mode keeps between iterations: the student's
    and the teacher's parameters and buffers, and the optimizer state."""
    tensors = list(model.parameters()) + list(model.buffers())
    if ema is not None:
        tensors += list(ema.parameters()) + list(ema.buffers())
    for state in optim.optimizer.state.values():
        tensors += [v for v in state.values() if isinstance(v, torch.Tensor)]
    seen, total = set(), 0
    for t in tensors:
        if t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total


def peak_bytes(model,
               optim,
               ema: Optional[torch.nn.Module],
               data: dict,
               device: str = 'cpu',
               amp: Optional[str] = None) -> int:
    """Peak tensor bytes of one iteration (EMA update included) plus the
    mode's resident tensors (:func:`resident_bytes`).

    CUDA: ``torch.cuda.max_memory_allocated`` above what was allocated at the
    iteration's start (other modes' models stay on the device); CPU: the
    ``torch.profiler`` allocation peak of the iteration.
    """
    def step():
        time_iters(model, optim, data, 1, device, amp, ema)

    if device.startswith('cuda'):
        _sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
        step()
        working = torch.cuda.max_memory_allocated(device) - start
    else:
        working = torch_peak_bytes(step)
    return working + resident_bytes(model, optim, ema)


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
              iter_seconds: float, device: str = 'cpu') -> Dict[str, float]:
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


def profile_tables(models: Dict[str, Trainable],
                   batches: Dict[str, dict],
                   row_limit: int = 15) -> str:
    """torch.profiler tables (self CPU time) of one iteration per mode."""
    from torch.profiler import ProfilerActivity, profile
    out = []
    for name, (model, optim, ema) in models.items():
        time_iters(model, optim, batches[name], 1, ema=ema)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            time_iters(model, optim, batches[name], 1, ema=ema)
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
        '--modes',
        nargs='+',
        choices=MODES,
        default=list(MODES),
        help='modes to time (default: all); source-only, the baseline of '
        'the ratios, always runs')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--forward-views',
        choices=('separate', 'joint', 'both'),
        default='both',
        help="UDAEncoderDecoder.forward_views of the UDA modes; 'both' "
        'times stage 2 both ways (the other modes separate)')
    parser.add_argument(
        '--amp',
        choices=('none', 'bf16', 'both'),
        default='none',
        help="bf16 autocast; 'both' interleaves fp32 and bf16 rounds")
    parser.add_argument('--breakdown', action='store_true')
    parser.add_argument('--profile', action='store_true')
    args = parser.parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: no CUDA device here')
    if (args.breakdown or args.profile) and 'stage2' not in args.modes:
        parser.error('--breakdown and --profile time stage 2; add stage2 to '
                     '--modes')
    args.modes = [m for m in MODES if m == 'source-only' or m in args.modes]
    return args


def _fmt_ms(sec: float) -> str:
    return f'{sec * 1e3:.1f}'


def _print_gradient_views(models: Dict[str, Trainable],
                          batches: Dict[str, dict]) -> None:
    """Every view of stage 2 must receive gradients; the online modes must
    forward the views :data:`VIEW_NAMES` gives them."""
    for key, (model, _, _) in models.items():
        mode = key.split(' ')[0]
        if mode != 'stage2' and mode not in ONLINE_MODES:
            continue
        names = VIEW_NAMES[mode]
        norms = gradient_views(model, batches[key])
        print(f'{key}: gradient norm at the backbone output per view '
              f'({", ".join(names)}): '
              + ', '.join(f'{v:.3g}' for v in norms))
        if len(norms) != len(names):
            raise RuntimeError(f'{key}: {len(norms)} views with gradients, '
                               f'expected {len(names)} ({names})')
        if mode == 'stage2' and min(norms) <= 0:
            raise RuntimeError(f'{key}: a view gets no gradient: {norms}')
    if any(k.startswith('mic') for k in models):
        print('(mic: the masked view gets 0 at random weights: no teacher '
              'pixel is above confidence 0.968, so the quality weight is 0; '
              'its forward and backward run all the same)')


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = args.device
    crop = tuple(args.crop)
    base = deeplabv2_cfg(
        depth=args.depth, base_channels=args.base_channels, crop=crop)
    views = (['separate', 'joint']
             if args.forward_views == 'both' else [args.forward_views])
    models, batches = {}, {}
    for mode in args.modes:
        for fv in (views if mode != 'source-only' else ['-']):
            key = mode if fv in ('-', 'separate') else f'{mode} (joint)'
            if mode != 'stage2' and fv == 'joint' and len(views) > 1:
                continue
            models[key] = build_mode(
                mode_cfg(mode, base, fv if fv != '-' else 'separate'),
                device)
            batches[key] = make_batch(mode, args.batch, crop)
    dev_name = ('CPU, ' if device == 'cpu' else
                f'{torch.cuda.get_device_name(device)}, ')
    print(f'torch {torch.__version__}, {dev_name}{torch.get_num_threads()} '
          f'thread(s); DeepLabV2 ResNetV1c-{args.depth} (base channels '
          f'{args.base_channels}, output stride 8, DLV2Head), crop '
          f'{crop[0]}x{crop[1]} (HxW), batch {args.batch}, random weights, '
          f'SGD; {args.reps} interleaved rounds x {args.iters} iterations, '
          f'medians')
    if any(m in ONLINE_MODES for m in args.modes):
        print('online modes: TeacherEMA (alpha 0.999) attached, its update '
              'inside each timed iteration; source and target crops '
              f'{crop[0]}x{crop[1]}')
    print()
    _print_gradient_views(models, batches)
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
                  device=device, amps=entry_amps)
    # outside the rounds: memory of one iteration, the teacher's share
    peaks = {e: peak_bytes(*entries[e], entry_batches[e], device,
                           entry_amps[e]) for e in entries}
    share_iters = max(args.iters, 3)
    shares = {
        e: teacher_share(*entries[e], entry_batches[e], share_iters, device,
                         entry_amps[e])
        for e in entries if entries[e][2] is not None
    }
    mem_how = ('max_memory_allocated' if device.startswith('cuda') else
               'torch.profiler')
    rows = []
    for amp in amps:
        base_times = res[(amp, 'source-only')]
        med_base = statistics.median(base_times)
        tag = 'fp32' if amp is None else amp + ' autocast'
        speed = amp is not None and None in amps
        print(f'| precision | mode | views | s/iter (median) | x source-only '
              f'(ratio of medians) | x source-only (median of per-round '
              f'ratios) | rounds min-max ratio | peak MiB ({mem_how} + '
              f'resident) | teacher fwd + EMA share |'
              + (' fp32 / bf16 time (median of per-round ratios) |'
                 if speed else ''))
        print('|---|---|---|---|---|---|---|---|---|' +
              ('---|' if speed else ''))
        for key in models:
            times = res[(amp, key)]
            med = statistics.median(times)
            ratios = [t / b for t, b in zip(times, base_times)]
            share = shares.get((amp, key))
            row = dict(
                precision=tag,
                mode=key,
                views=VIEWS[key.split(' ')[0]],
                s_iter=med,
                ratio=med / med_base,
                ratio_paired=statistics.median(ratios),
                ratio_min=min(ratios),
                ratio_max=max(ratios),
                peak_bytes=peaks[(amp, key)],
                teacher_share=None if share is None else share['share'])
            extra = ''
            if speed:
                row['amp_speedup'] = statistics.median(
                    [f / t for f, t in zip(res[(None, key)], times)])
                extra = f' {row["amp_speedup"]:.2f} |'
            rows.append(row)
            share_txt = '-' if share is None else \
                f'{100 * share["share"]:.1f}%'
            print(f'| {tag} | {key} | {row["views"]} | {med:.3f} | '
                  f'{row["ratio"]:.2f} | {row["ratio_paired"]:.2f} | '
                  f'{row["ratio_min"]:.2f}-{row["ratio_max"]:.2f} | '
                  f'{row["peak_bytes"] / 2**20:.1f} | {share_txt} |' + extra)
        print()
    if shares:
        print(f'| precision | online mode | teacher forward ms/iter | EMA '
              f'update ms/iter | iteration ms ({share_iters} more '
              f'iterations, timers on) | teacher fwd + EMA share |')
        print('|---|---|---|---|---|---|')
        for (amp, key), share in shares.items():
            tag = 'fp32' if amp is None else amp + ' autocast'
            print(f'| {tag} | {key} | {_fmt_ms(share["teacher"])} | '
                  f'{_fmt_ms(share["ema"])} | {_fmt_ms(share["iteration"])} '
                  f'| {100 * share["share"]:.1f}% |')
            rows.append(dict(
                precision=tag, online=key, teacher_s=share['teacher'],
                ema_s=share['ema'], iteration_s=share['iteration'],
                share=share['share']))
        print()
    print(f'Peak MiB: one iteration (EMA update included) outside the rounds; '
          f'{mem_how} peak of its allocations plus the mode\'s resident '
          f'tensors (student and teacher weights and buffers, SGD momentum).')
    print()

    if args.breakdown:
        key = 'stage2'
        s_iter = statistics.median(
            [r['s_iter'] for r in rows if r.get('mode') == key
             and r['precision'] == 'fp32'] or [rows[-1]['s_iter']])
        parts = breakdown(*models[key][:2], batches[key],
                          max(args.iters, 3), crop, args.batch, s_iter,
                          device)
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
