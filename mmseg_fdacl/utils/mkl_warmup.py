"""Work around oneMKL's VML first-call dispatch race (pytorch/pytorch#188792).

On x86 CPU builds ATen computes contiguous float/double unary ops (``exp``,
``log``, ``sqrt``, ``tanh``, ...) with MKL VML, each intra-op thread calling
e.g. ``vmsExp(n, in, out, VML_HA)`` on its chunk (``ATen/cpu/vml.h``).
oneMKL 2024.2, the version in the torch CPU wheels, resolves a VML function's
kernel lazily on its first call; when that first call runs on several threads
at once, one thread can run a low-accuracy kernel for its whole chunk (relative
errors around 1e-4 instead of 1e-7). Only that one call is affected, so it
looks like noise, but it makes training irreproducible from the first
iteration: in the demo's stage 2 the first multi-threaded ``exp`` is the
target entropy's ``log_p.exp()``, and in about one process in ten half of its
values came out wrong, so two runs (or a run and its resumption) of the same
seeded config ended with different weights.

:func:`warm_up_mkl_vml` calls every VML-backed op once on a one-element tensor
(one thread, below any parallel grain), which resolves the dispatch before any
concurrent use, as the upstream fix (pytorch/pytorch#188791) does with a
``call_once`` per function. Importing :mod:`mmseg_fdacl` runs it.
"""
import torch

__all__ = ['VML_OPS', 'warm_up_mkl_vml']

#: The ops ATen routes to MKL VML (``IMPLEMENT_VML_MKL`` in ATen/cpu/vml.h).
VML_OPS = ('acos', 'asin', 'atan', 'cos', 'erf', 'erfc', 'erfinv', 'exp',
           'log', 'log10', 'log2', 'sin', 'sqrt', 'tan', 'tanh', 'trunc')

_done = False


def warm_up_mkl_vml() -> bool:
    """Call each VML-backed op once, serially, in float32 and float64.

    Cheap (32 one-element calls) and idempotent; a no-op without MKL.

    Returns:
        bool: Whether MKL is in use (the warm-up ran, now or before).
    """
    global _done
    if not torch.backends.mkl.is_available():
        return False
    if not _done:
        with torch.no_grad():
            for dtype in (torch.float32, torch.float64):
                x = torch.full((1, ), 0.5, dtype=dtype)
                for name in VML_OPS:
                    getattr(torch, name)(x)
        _done = True
    return True
