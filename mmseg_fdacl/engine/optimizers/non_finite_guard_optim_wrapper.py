"""An optimizer wrapper that refuses to step on a non-finite loss."""
import logging
import math
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional

import torch
import torch.distributed as torch_dist
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

__all__ = ['NonFiniteGuardOptimWrapper', 'NonFiniteLossError']

_MODES = ('raise', 'skip')


class NonFiniteLossError(FloatingPointError):
    """Raised when a loss is NaN or infinite and the guard is set to raise."""


def _finite(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value.detach()).all())
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return True


def _fmt(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f'{value.detach().float().sum().item():.4g}'
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(_fmt(v) for v in value) + ']'
    return repr(value)


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that checks the loss before ``backward`` and ``step``.

    The guard lives here because this is the one place every training step
    passes through after the losses are summed and before any weight
    changes, whatever the segmentor (plain ``EncoderDecoder`` for source-only
    and stage 1, ``UDAEncoderDecoder`` for stage 2). The names of the loss
    terms come from a forward hook on the model (registered in
    :meth:`optim_context`), which records the loss dict the segmentor
    returns in ``mode='loss'``.

    In distributed runs the ranks agree (an all-reduce of one flag) so that
    all of them raise or all of them skip; otherwise the healthy ranks would
    wait forever in DDP's gradient all-reduce.

    Args:
        on_non_finite (str): ``'raise'`` stops training with
            :class:`NonFiniteLossError` naming the non-finite loss term(s)
            and the iteration; ``'skip'`` discards the step (gradients
            zeroed, no ``optimizer.step``) and logs a warning. Default:
            'raise'.
        max_consecutive_skips (int): In ``'skip'`` mode, raise after this
            many non-finite steps in a row (the run has diverged).
            Default: 10.
        **kwargs: As :class:`mmengine.optim.OptimWrapper` (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self,
                 *,
                 on_non_finite: str = 'raise',
                 max_consecutive_skips: int = 10,
                 **kwargs: Any) -> None:
        if on_non_finite not in _MODES:
            raise ValueError(
                'NonFiniteGuardOptimWrapper: on_non_finite must be one of '
                f'{_MODES}, got {on_non_finite!r}.')
        if not isinstance(max_consecutive_skips, int) or isinstance(
                max_consecutive_skips, bool) or max_consecutive_skips < 1:
            raise ValueError(
                'NonFiniteGuardOptimWrapper: max_consecutive_skips must be '
                f'an int >= 1, got {max_consecutive_skips!r}.')
        super().__init__(**kwargs)
        self.on_non_finite = on_non_finite
        self.max_consecutive_skips = max_consecutive_skips
        self.num_skipped = 0
        self._consecutive = 0
        self._last_losses: Dict[str, Any] = {}
        self._watched: List[int] = []
        self._handles: List[Any] = []

    # -- capturing the loss terms -----------------------------------------
    def _record(self, module: torch.nn.Module, args: Any,
                output: Any) -> None:
        if isinstance(output, dict) and any('loss' in k for k in output):
            self._last_losses = {
                k: (v.detach() if isinstance(v, torch.Tensor) else v)
                for k, v in output.items() if 'loss' in k
            }

    @contextmanager
    def optim_context(self, model: torch.nn.Module) -> Iterator[None]:
        """mmengine's context, plus a forward hook that records the losses."""
        if id(model) not in self._watched:
            self._handles.append(model.register_forward_hook(self._record))
            self._watched.append(id(model))
        self._last_losses = {}
        with super().optim_context(model):
            yield

    # -- the guard ----------------------------------------------------------
    def _all_finite(self, loss: torch.Tensor) -> bool:
        ok = torch.isfinite(loss.detach()).all().to(torch.float32).reshape(1)
        if torch_dist.is_available() and torch_dist.is_initialized() and \
                torch_dist.get_world_size() > 1:
            torch_dist.all_reduce(ok, op=torch_dist.ReduceOp.MIN)
        return bool(ok.item() > 0)

    def describe_non_finite(self, loss: torch.Tensor) -> str:
        """Which loss terms of this process are not finite, in words."""
        bad = [f'{k}={_fmt(v)}' for k, v in self._last_losses.items()
               if not _finite(v)]
        if bad:
            return 'non-finite loss term(s): ' + ', '.join(bad)
        if not _finite(loss):
            return (f'the summed loss is {_fmt(loss)} (terms: ' + ', '.join(
                f'{k}={_fmt(v)}' for k, v in self._last_losses.items()) + ')')
        return 'a non-finite loss on another rank (this rank: ' + ', '.join(
            f'{k}={_fmt(v)}' for k, v in self._last_losses.items()) + ')'

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Backward and step if the loss is finite on every rank."""
        if self._all_finite(loss):
            self._consecutive = 0
            super().update_params(loss, step_kwargs, zero_kwargs)
            return
        iteration = MessageHub.get_current_instance().get_info('iter', -1) + 1
        what = self.describe_non_finite(loss)
        self._consecutive += 1
        if self.on_non_finite == 'raise' or \
                self._consecutive > self.max_consecutive_skips:
            reason = ('' if self.on_non_finite == 'raise' else
                      f' ({self._consecutive} non-finite steps in a row, '
                      f'more than max_consecutive_skips='
                      f'{self.max_consecutive_skips})')
            raise NonFiniteLossError(
                f'Training stopped at iteration {iteration}{reason}: '
                f'{what}. No weights were updated with it and no checkpoint '
                'was written from it; resume from the last checkpoint after '
                'lowering the learning rate or checking the data, or set '
                "optim_wrapper=dict(type='NonFiniteGuardOptimWrapper', "
                "on_non_finite='skip') to skip such steps.")
        # Keep DDP's reducer in step with the other ranks (they run this
        # backward too); the gradients are then discarded.
        self.backward(loss * 0)
        self.zero_grad(**(zero_kwargs or {}))
        self.num_skipped += 1
        MessageHub.get_current_instance().update_info(
            'non_finite_skipped', self.num_skipped)
        print_log(
            f'NonFiniteGuardOptimWrapper: skipped the step of iteration '
            f'{iteration}: {what} ({self.num_skipped} skipped so far).',
            logger='current',
            level=logging.WARNING)
