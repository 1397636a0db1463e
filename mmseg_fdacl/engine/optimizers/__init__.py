"""Optimizer wrappers registered into MMSeg's OPTIM_WRAPPERS registry."""
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .non_finite_guard_amp_optim_wrapper import NonFiniteGuardAmpOptimWrapper
from .non_finite_guard_optim_wrapper import (NonFiniteGuardOptimWrapper,
                                             NonFiniteLossError)

__all__ = [
    'CPUAmpOptimWrapper', 'NonFiniteGuardAmpOptimWrapper',
    'NonFiniteGuardOptimWrapper', 'NonFiniteLossError'
]
