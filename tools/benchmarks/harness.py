"""The timing harness every benchmark in ``tools/benchmarks/`` shares.

Generic parts (any benchmark): the machine's load average, device
synchronisation, autocast, interleaved rounds with medians and paired
ratios, the ``torch.profiler`` allocation peak, markdown tables.

Training-step parts (``bench_train_iter.py``, ``gpu_check.py``): timed
``model.train_step`` iterations with the online modes' EMA update, the
teacher's share of an iteration (forward hooks on the teacher, so no private
method of the segmentor is touched), peak memory of one iteration plus the
mode's resident tensors, and the gradient reaching each view.

The benchmarks measure on shared, noisy machines, so every comparison is
made side by side: :func:`interleaved` runs the entries in rotating order
round after round, and figures are medians and medians of per-round ratios.
"""
import contextlib
import os
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch.profiler import ProfilerActivity, profile

from mmseg_fdacl.demo.batches import fresh_batch

__all__ = [
    'load_average', 'load_text', 'sync', 'amp_context', 'interleaved',
    'paired_ratios', 'cpu_allocations', 'torch_peak_bytes', 'table',
    'time_iters', 'teacher_share', 'resident_bytes', 'peak_bytes',
    'gradient_views', 'no_grad_forward_seconds'
]


# -- the machine -------------------------------------------------------------
def load_average() -> Optional[Tuple[float, float, float]]:
    """``os.getloadavg()`` (1, 5, 15 min), or None where there is none."""
    try:
        return os.getloadavg()
    except OSError:
        return None


def load_text() -> str:
    """The load average as ``'1.2, 1.0, 0.9'`` (or ``'n/a'``)."""
    load = load_average()
    return 'n/a' if load is None else ', '.join(f'{v:.1f}' for v in load)


def sync(device: str) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def amp_context(amp: Optional[str], device: str):
    """Autocast for ``amp`` ('bf16', 'fp16' or None) on ``device``."""
    if amp is None:
        return contextlib.nullcontext()
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16)[amp]
    return torch.autocast(device_type=str(device).split(':')[0], dtype=dtype)


# -- side-by-side timing -----------------------------------------------------
def interleaved(fns: Dict[str, Callable[[], float]],
                reps: int,
                warmup: int = 1) -> Dict[str, List[float]]:
    """Run every entry once per round, in an order rotated each round.

    Args:
        fns (dict): Name -> a function that measures once and returns its
            seconds (e.g. the median of a few iterations).
        reps (int): Rounds.
        warmup (int): Untimed calls of each entry first. Default: 1.

    Returns:
        dict: Name -> the seconds of each round.
    """
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    out = {name: [] for name in names}
    for r in range(reps):
        for name in names[r % len(names):] + names[:r % len(names)]:
            out[name].append(fns[name]())
    return out


def paired_ratios(times: Sequence[float],
                  base: Sequence[float]) -> List[float]:
    """Per-round ratios ``times[i] / base[i]`` (the rounds' load cancels)."""
    return [t / b for t, b in zip(times, base)]


# -- memory ------------------------------------------------------------------
def cpu_allocations(prof, with_ptr: bool = False) -> List[tuple]:
    """``(time_ns, bytes)`` (``with_ptr``: ``(time_ns, ptr, bytes)``) of
    every CPU allocation (+) and free (-) that a ``torch.profiler`` run with
    ``profile_memory=True`` recorded, in time order."""
    events = []
    stack = list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        node = stack.pop()
        fields = node.extra_fields
        if (type(fields).__name__ == '_ExtraFields_Allocation'
                and fields.device.type == 'cpu'):
            events.append((node.start_time_ns, fields.ptr,
                           fields.alloc_size) if with_ptr else (
                               node.start_time_ns, fields.alloc_size))
        stack.extend(node.children)
    return sorted(events)


def torch_peak_bytes(fn: Callable[[], object]) -> int:
    """Peak of the CPU tensor bytes ``fn`` allocates (its result freed)."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        out = fn()
        del out
    peak = cur = 0
    for _, nbytes in cpu_allocations(p):
        cur += nbytes
        peak = max(peak, cur)
    return peak


# -- output ------------------------------------------------------------------
def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table (cells as given, converted with ``str``)."""
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


# -- training steps ----------------------------------------------------------
def time_iters(model,
               optim,
               data: dict,
               iters: int,
               device: str = 'cpu',
               amp: Optional[str] = None,
               ema: Optional[torch.nn.Module] = None,
               totals: Optional[Dict[str, float]] = None) -> float:
    """Median seconds of one ``model.train_step`` over ``iters`` iterations.

    Args:
        model, optim: The segmentor and its optim wrapper.
        data (dict): A collated batch (copied per iteration).
        iters (int): Iterations.
        device (str): Where the model is (CUDA is synchronized around each
            iteration). Default: 'cpu'.
        amp (str, optional): Autocast around ``train_step``
            (:func:`amp_context`), for a plain optim wrapper; an AMP optim
            wrapper autocasts by itself. Default: None.
        ema (TeacherEMA, optional): The online modes' teacher average,
            updated after each step inside the timed iteration (what
            ``MeanTeacherHook.after_train_iter`` does in a run).
        totals (dict, optional): Adds the seconds of all iterations to
            ``'iteration'`` and those of the EMA updates to ``'ema'``.

    Returns:
        float: The median seconds per iteration.
    """
    times = []
    for _ in range(iters):
        batch = fresh_batch(data)
        sync(device)
        t0 = time.perf_counter()
        with amp_context(amp, device):
            log = model.train_step(batch, optim)
        if ema is not None:
            if totals is not None:
                sync(device)
                t_ema = time.perf_counter()
            ema.update_parameters(model)
            if totals is not None:
                sync(device)
                totals['ema'] = (
                    totals.get('ema', 0.0) + time.perf_counter() - t_ema)
        sync(device)
        times.append(time.perf_counter() - t0)
        if not torch.isfinite(log['loss']):
            raise FloatingPointError(f'non-finite loss: {log}')
    if totals is not None:
        totals['iteration'] = totals.get('iteration', 0.0) + sum(times)
    return statistics.median(times)


@contextlib.contextmanager
def timed_forwards(module: torch.nn.Module,
                   flush_on: torch.nn.Module,
                   totals: Dict[str, float],
                   key: str,
                   device: str = 'cpu'):
    """Add the seconds of every forward of ``module`` to ``totals[key]``.

    A forward runs from the start of the first of ``module``'s leaf modules
    to the end of the last one (forward hooks on every leaf: a segmentor's
    forward may call its parts' ``forward`` methods directly, which no hook
    on the part sees). A forward of ``flush_on`` (e.g. the student's
    backbone) or leaving the context ends the window.
    """
    leaves = [
        m for m in module.modules() if not any(True for _ in m.children())
    ]
    window: Dict[str, float] = {}

    def flush(*_):
        if 'start' in window and 'end' in window:
            totals[key] = (
                totals.get(key, 0.0) + window['end'] - window['start'])
        window.clear()

    def pre(mod, args):
        if 'start' not in window:
            sync(device)
            window['start'] = time.perf_counter()

    def post(mod, args, out):
        sync(device)
        window['end'] = time.perf_counter()

    handles = [flush_on.register_forward_pre_hook(flush)]
    for leaf in leaves:
        handles.append(leaf.register_forward_pre_hook(pre))
        handles.append(leaf.register_forward_hook(post))
    try:
        yield
    finally:
        flush()
        for h in handles:
            h.remove()


def teacher_share(model,
                  optim,
                  ema: torch.nn.Module,
                  data: dict,
                  iters: int,
                  device: str = 'cpu',
                  amp: Optional[str] = None) -> Dict[str, float]:
    """Seconds per online iteration in the teacher's forward (its first to
    its last module, :func:`timed_forwards` on ``ema.module``) and the EMA
    update, and their share of the same iterations' seconds."""
    totals: Dict[str, float] = {}
    with timed_forwards(ema.module, getattr(model, 'backbone', model), totals,
                        'teacher', device):
        time_iters(model, optim, data, iters, device, amp, ema, totals)
    out = {
        k: totals.get(k, 0.0) / iters
        for k in ('teacher', 'ema', 'iteration')
    }
    out['share'] = (out['teacher'] + out['ema']) / out['iteration']
    return out


def no_grad_forward_seconds(model,
                            data: dict,
                            iters: int,
                            device: str = 'cpu',
                            amp: Optional[str] = None) -> float:
    """Median seconds of one forward of the source images without
    gradients (BatchNorm in train mode, as a teacher in DACS' 'train'
    mode): the unit of the no-gradient forwards in a mode's floor."""
    times = []
    for _ in range(iters):
        batch = model.data_preprocessor(fresh_batch(data), True)
        sync(device)
        t0 = time.perf_counter()
        with torch.no_grad(), amp_context(amp, device):
            model.decode_head.forward(model.extract_feat(batch['inputs']))
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def resident_bytes(model, optim, ema: Optional[torch.nn.Module]) -> int:
    """Bytes of the tensors a mode keeps between iterations: the student's
    and the teacher's parameters and buffers, and the optimizer state (the
    feature distance's frozen ImageNet backbone, held outside the module
    tree, is not counted: a copy of the student's backbone weights)."""
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

    CUDA: ``torch.cuda.max_memory_allocated`` above what was allocated at
    the iteration's start (other modes' models stay on the device); CPU:
    the ``torch.profiler`` allocation peak of the iteration.
    """

    def step():
        time_iters(model, optim, data, 1, device, amp, ema)

    if str(device).startswith('cuda'):
        sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
        step()
        working = torch.cuda.max_memory_allocated(device) - start
    else:
        working = torch_peak_bytes(step)
    return working + resident_bytes(model, optim, ema)


def gradient_views(model, data: dict) -> List[float]:
    """Gradient norm reaching the backbone features of each view.

    ``extract_feat`` (HRDA: ``extract_unscaled_feat``, so its context and
    detail crop count apart) is wrapped for one forward/backward so the
    features of every call (or, with ``forward_views='joint'``, every chunk
    of the joint batch) keep their gradient; a view with norm 0 would not
    train.
    """
    feats = []
    name = ('extract_unscaled_feat'
            if hasattr(model, 'extract_unscaled_feat') else 'extract_feat')
    orig = getattr(model, name)

    def extract_feat(inputs):
        out = orig(inputs)
        for f in out:
            f.retain_grad()
        feats.append(out[-1])
        return out

    setattr(model, name, extract_feat)
    try:
        model.zero_grad()
        batch = model.data_preprocessor(fresh_batch(data), True)
        losses = model(**batch, mode='loss')
        loss, _ = model.parse_losses(losses)
        loss.backward()
    finally:
        delattr(model, name)
    model.zero_grad()
    n = len(data['inputs'])
    norms = []
    for feat in feats:
        if feat.grad is None:  # a forward whose features get no gradient
            norms.append(0.0)
            continue
        for chunk in feat.grad.split(n):
            norms.append(float(chunk.norm()))
    return norms
