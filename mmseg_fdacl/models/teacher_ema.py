"""The mean teacher's exponential moving average, with DAFormer's warm start.

Mean teacher: Tarvainen & Valpola, "Mean teachers are better role models",
NeurIPS 2017; used for domain-adaptive segmentation by DACS (Tranheden et
al., WACV 2021) and DAFormer (Hoyer et al., CVPR 2022). The update rule is
DAFormer's ``_update_ema``: ``alpha_t = min(1 - 1 / (t + 1), alpha)`` and
``teacher = alpha_t * teacher + (1 - alpha_t) * student`` on the parameters,
so the first updates follow the student closely and the average settles to
``alpha`` after ``1 / (1 - alpha)`` updates.
"""
import math

from mmengine.model import BaseAveragedModel
from mmseg.registry import MODELS
from torch import Tensor

__all__ = ['TeacherEMA', 'ema_alpha']


def ema_alpha(alpha: float, steps: int) -> float:
    """DAFormer's warm-started EMA weight ``min(1 - 1 / (steps + 1), alpha)``.

    Args:
        alpha (float): The final weight of the average, in [0, 1).
        steps (int): Updates made so far (1 at the first average; step 0 is
            the copy that starts the teacher).

    Returns:
        float: The weight of the old average in this update.
    """
    return min(1.0 - 1.0 / (steps + 1), alpha)


@MODELS.register_module()
class TeacherEMA(BaseAveragedModel):
    """mmengine's :class:`BaseAveragedModel` with DAFormer's EMA schedule.

    ``steps`` (a buffer, so in the state dict and every checkpoint) counts
    updates: update 0 copies the student (the teacher starts as the student,
    as DAFormer's ``_init_ema_weights``), update ``t >= 1`` averages with
    :func:`ema_alpha`. Buffers (BatchNorm statistics) are copied from the
    student at each update (``update_buffers=False``), as mmengine's EMA.

    Args:
        model (nn.Module): The student to average (deep-copied, gradients
            off).
        alpha (float): Final EMA weight, in [0, 1). DAFormer's DACS
            baseline (``_base_/uda/dacs.py``): 0.99; DAFormer's recipe and
            MIC: 0.999.
            Default: 0.999.
        interval (int): Average every ``interval`` updates. Default: 1.
        device (torch.device, optional): Where to keep the teacher.
        update_buffers (bool): Average the buffers too. Default: False.
    """

    def __init__(self,
                 model,
                 alpha: float = 0.999,
                 interval: int = 1,
                 device=None,
                 update_buffers: bool = False) -> None:
        if (not isinstance(alpha, (int, float)) or isinstance(alpha, bool)
                or not math.isfinite(alpha) or not 0.0 <= alpha < 1.0):
            raise ValueError(
                f'TeacherEMA: `alpha` must be a number in [0, 1), got '
                f'{alpha!r} (DACS/DAFormer use 0.999).')
        super().__init__(model, interval, device, update_buffers)
        self.alpha = float(alpha)

    def avg_func(self, averaged_param: Tensor, source_param: Tensor,
                 steps: int) -> None:
        """``averaged = a * averaged + (1 - a) * source``, in place."""
        a = ema_alpha(self.alpha, int(steps))
        averaged_param.mul_(a).add_(source_param, alpha=1.0 - a)
