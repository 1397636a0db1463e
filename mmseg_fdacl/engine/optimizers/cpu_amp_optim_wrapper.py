"""mmengine's mixed-precision optimizer wrapper, usable on a CPU-only machine.

:class:`mmengine.optim.AmpOptimWrapper` asserts that a GPU (or NPU/MLU/MUSA)
is present, although ``mmengine.runner.amp.autocast``, which it uses, supports
CPU autocast in bfloat16. On this project's CPU machines bf16 autocast runs a
DeepLabV2 training iteration about twice as fast as fp32
(``tools/benchmarks/bench_train_iter.py --amp both``), so the wrapper is
worth having there too.
"""
from typing import Union

import torch
from mmengine.device import (is_cuda_available, is_mlu_available,
                             is_musa_available, is_npu_available)
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

__all__ = ['CPUAmpOptimWrapper']

_CPU_DTYPES = (None, 'bfloat16', torch.bfloat16)


def _accelerator_available() -> bool:
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(AmpOptimWrapper):
    """:class:`AmpOptimWrapper` that also runs where there is no GPU.

    With an accelerator it is exactly :class:`AmpOptimWrapper`. Without one,
    ``optim_context`` autocasts to bfloat16 on the CPU and the loss is not
    scaled: bf16 keeps fp32's exponent range, so gradients do not underflow
    the way fp16 ones do (the gradient scaler is created disabled, so
    ``backward``/``step``/``state_dict`` work unchanged).

    Args:
        loss_scale (str | float | dict): As :class:`AmpOptimWrapper`; not
            used on the CPU. Default: 'dynamic'.
        dtype (str | torch.dtype, optional): As :class:`AmpOptimWrapper`; on
            the CPU only ``None`` or bfloat16. Default: None.
        use_fsdp (bool): As :class:`AmpOptimWrapper`. Default: False.
        **kwargs: As :class:`mmengine.optim.OptimWrapper` (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Union[str, torch.dtype, None] = None,
                 use_fsdp: bool = False,
                 **kwargs) -> None:
        if _accelerator_available():
            super().__init__(
                loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp,
                **kwargs)
            return
        if dtype not in _CPU_DTYPES:
            raise ValueError(
                f'CPUAmpOptimWrapper: `dtype` {dtype!r} is not supported '
                'without a GPU; CPU autocast runs in bfloat16 only (use '
                "dtype='bfloat16' or None).")
        # AmpOptimWrapper.__init__ asserts an accelerator; its remaining
        # state is set here instead.
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        self.cast_dtype = torch.bfloat16
