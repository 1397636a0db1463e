"""The weight schedule of the contrastive term: the reference's hard switch,
or a linear ramp.

``cl_schedule`` of :class:`UDAEncoderDecoder`:

* ``None`` (default): the reference's hard switch (zgerem/UDA stage 2):
  full weight from ``warmup_iters`` on, nothing before.
* ``dict(type='step', start=S)``: the same switch at iteration ``S``.
* ``dict(type='linear', start=S, ramp_iters=R)``: the factor
  ``clip((i - S + 1) / R, 0, 1)`` at iteration ``i`` (0-based, as mmengine
  counts): 0 before ``S``, ``1 / R`` at ``S``, full weight from ``S + R - 1``
  on. A ramp of this kind is common in consistency training (Laine & Aila,
  "Temporal Ensembling", ICLR 2017, ramp the unsupervised weight up); the
  method itself switches the term on at once.

The contrastive loss is ``factor x lambda_cl x loss``; the factor applies to
the contrastive term only (entropy and pseudo-label CE keep
``warmup_iters``).
"""
from typing import Optional

SCHEDULE_TYPES = ('step', 'linear')


def check_cl_schedule(schedule: Optional[dict],
                      warmup_iters: int) -> Optional[dict]:
    """Validate ``cl_schedule`` (see the module docstring).

    Args:
        schedule (dict, optional): The schedule, or None (hard switch at
            ``warmup_iters``).
        warmup_iters (int): The segmentor's warm-up (the default start).

    Returns:
        dict | None: The schedule with ``start`` filled in (default
        ``warmup_iters``), or None.

    Raises:
        ValueError: Unknown type or keys, or a value out of range.
    """
    if schedule is None:
        return None
    if not isinstance(schedule, dict) or schedule.get(
            'type') not in SCHEDULE_TYPES:
        raise ValueError(
            'UDAEncoderDecoder: `cl_schedule` must be None (the reference\'s '
            "hard switch at warmup_iters) or a dict with type in "
            f"{SCHEDULE_TYPES}, e.g. dict(type='linear', start=0, "
            f'ramp_iters=1000); got {schedule!r}.')
    allowed = {'type', 'start'} | ({'ramp_iters'}
                                   if schedule['type'] == 'linear' else set())
    unknown = sorted(set(schedule) - allowed)
    if unknown:
        raise ValueError(f'UDAEncoderDecoder: `cl_schedule` of type '
                         f"{schedule['type']!r} takes {sorted(allowed)}, got "
                         f'unknown keys {unknown}.')
    out = dict(schedule)
    out.setdefault('start', warmup_iters)
    names = ['start'] + (['ramp_iters'] if out['type'] == 'linear' else [])
    for name in names:
        if name not in out:
            raise ValueError(f'UDAEncoderDecoder: `cl_schedule` of type '
                             f"'linear' needs `{name}`.")
        value, least = out[name], 0 if name == 'start' else 1
        if (not isinstance(value, int) or isinstance(value, bool)
                or value < least):
            raise ValueError(f'UDAEncoderDecoder: `cl_schedule.{name}` must '
                             f'be an int >= {least}, got {value!r}.')
    return out


def cl_factor(schedule: Optional[dict], it: int, warmup_iters: int) -> float:
    """The factor of the contrastive weight at iteration ``it``.

    Args:
        schedule (dict, optional): A checked schedule
            (:func:`check_cl_schedule`), or None.
        it (int): The 0-based iteration.
        warmup_iters (int): The hard switch of ``schedule=None``.

    Returns:
        float: In [0, 1].
    """
    if schedule is None:
        return 1.0 if it >= warmup_iters else 0.0
    start = schedule['start']
    if schedule['type'] == 'step':
        return 1.0 if it >= start else 0.0
    return min(max((it - start + 1) / schedule['ramp_iters'], 0.0), 1.0)
