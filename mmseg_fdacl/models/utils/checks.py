"""Argument checks shared by the models' building blocks and components."""
import math
from typing import Sequence

import torch


def check_generator(owner: str, generator) -> torch.Generator:
    """Return ``generator`` if it is a CPU ``torch.Generator``.

    All random draws of this package run on an explicit CPU generator so a
    training run can save and restore its state and resume bit-exactly on
    any device; the draws are moved to the tensors' device afterwards.
    """
    if not isinstance(generator, torch.Generator):
        raise ValueError(
            f'{owner}: `generator` must be a torch.Generator (e.g. '
            f'torch.Generator().manual_seed(seed)), got {generator!r}.')
    if generator.device.type != 'cpu':
        raise ValueError(
            f'{owner}: `generator` must be a CPU generator (draws happen on '
            f'CPU, then move to the data), got one on {generator.device}; '
            f"create it with torch.Generator() instead of "
            f"torch.Generator(device='{generator.device}').")
    return generator


def check_probability(owner: str, name: str, value) -> float:
    """``value`` as a float in ``[0, 1]``."""
    if (not isinstance(value, (int, float)) or isinstance(value, bool)
            or not 0.0 <= value <= 1.0):
        raise ValueError(f'{owner}: `{name}` must be a probability in '
                         f'[0, 1], got {value!r}.')
    return float(value)


def check_non_negative(owner: str, name: str, value) -> float:
    """``value`` as a finite float ``>= 0``."""
    if (not isinstance(value, (int, float)) or isinstance(value, bool)
            or not math.isfinite(value) or value < 0):
        raise ValueError(f'{owner}: `{name}` must be a finite number >= 0, '
                         f'got {value!r}.')
    return float(value)


def check_positive_int(owner: str, name: str, value) -> int:
    """``value`` as an int ``>= 1``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f'{owner}: `{name}` must be an int >= 1, got '
                         f'{value!r}.')
    return value


def check_option_dict(owner: str, name: str, value,
                      allowed: Sequence[str]) -> dict:
    """``value`` as a dict copy whose keys are among ``allowed``."""
    if not isinstance(value, dict):
        raise ValueError(f'{owner}: `{name}` must be a dict or None, got '
                         f'{value!r}.')
    unknown = set(value) - set(allowed)
    if unknown:
        raise ValueError(f'{owner}: unknown `{name}` keys {sorted(unknown)}; '
                         f'allowed: {tuple(allowed)}.')
    return dict(value)
