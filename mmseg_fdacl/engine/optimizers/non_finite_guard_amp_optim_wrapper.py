"""The non-finite loss guard on top of mmengine's mixed-precision wrapper."""
from mmengine.optim import AmpOptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

from .non_finite_guard_optim_wrapper import NonFiniteGuardOptimWrapper

__all__ = ['NonFiniteGuardAmpOptimWrapper']


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardAmpOptimWrapper(NonFiniteGuardOptimWrapper,
                                    AmpOptimWrapper):
    """:class:`NonFiniteGuardOptimWrapper` with AMP (autocast + loss scaling).

    ``tools/train.py --amp`` switches a config's ``NonFiniteGuardOptimWrapper``
    to this class, so mixed-precision runs keep the guard. The guard checks
    the unscaled loss before :class:`mmengine.optim.AmpOptimWrapper` scales
    it; the gradient scaler still skips steps whose *gradients* overflow in
    fp16, which is the scaler's job and not an error.

    Args:
        on_non_finite (str): ``'raise'`` or ``'skip'``, as in
            :class:`NonFiniteGuardOptimWrapper`. Default: 'raise'.
        max_consecutive_skips (int): As in
            :class:`NonFiniteGuardOptimWrapper`. Default: 10.
        **kwargs: As :class:`mmengine.optim.AmpOptimWrapper` (``loss_scale``,
            ``dtype``, ``optimizer``, ``clip_grad``, ...).
    """
