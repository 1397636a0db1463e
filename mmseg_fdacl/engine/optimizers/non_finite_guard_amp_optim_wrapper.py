"""The non-finite loss guard on top of mmengine's mixed-precision wrapper."""
from mmseg.registry import OPTIM_WRAPPERS

from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .non_finite_guard_optim_wrapper import NonFiniteGuardOptimWrapper

__all__ = ['NonFiniteGuardAmpOptimWrapper']


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardAmpOptimWrapper(NonFiniteGuardOptimWrapper,
                                    CPUAmpOptimWrapper):
    """:class:`NonFiniteGuardOptimWrapper` with AMP (autocast + loss scaling).

    ``tools/train.py --amp`` switches a config's ``NonFiniteGuardOptimWrapper``
    to this class, so mixed-precision runs keep the guard: on a GPU it is
    mmengine's ``AmpOptimWrapper`` (fp16/bf16 with loss scaling), on a CPU
    bf16 autocast (:class:`CPUAmpOptimWrapper`). The guard checks the
    unscaled loss before it is scaled; the gradient scaler still skips steps
    whose *gradients* overflow in fp16, which is its job and not an error.

    Args:
        on_non_finite (str): ``'raise'`` or ``'skip'``, as in
            :class:`NonFiniteGuardOptimWrapper`. Default: 'raise'.
        max_consecutive_skips (int): As in
            :class:`NonFiniteGuardOptimWrapper`. Default: 10.
        **kwargs: As :class:`CPUAmpOptimWrapper` (``loss_scale``,
            ``dtype``, ``optimizer``, ``clip_grad``, ...).
    """
