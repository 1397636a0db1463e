"""Log each loss term's gradient norm at the shared features, every logger
interval.

The contrastive term of the method's stage 2 is often several times the
cross-entropy in the log (on the demo: ``loss_cl`` about 5.7 against
``loss_ce_src`` 0.8); what matters for training is how hard each term pushes
the features they share. On the iterations the logger prints, this hook asks
the segmentor (:meth:`UDAEncoderDecoder.request_grad_norms`) for
``||d term / d features||`` per term; the segmentor returns them with its
losses as ``gnorm_<term>`` (``gnorm_ce_src``, ``gnorm_ent_trg``,
``gnorm_cl``, ...), which the runner logs as it logs the losses. Other
iterations cost nothing.
"""
from typing import Optional

from mmengine.hooks import Hook, LoggerHook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class FeatureGradNormHook(Hook):
    """Ask the segmentor for per-term gradient norms on logging iterations.

    Config::

        custom_hooks = [dict(type='FeatureGradNormHook')]

    (keep the config's other custom hooks in the list, e.g. the stage-2
    ``PseudoLabelHook``).

    Args:
        interval (int, optional): Every ``interval`` iterations (the same
            test as mmengine's ``LoggerHook``: ``(iter + 1) % interval ==
            0``). Default: None, the runner's ``LoggerHook`` interval.

    Raises:
        ValueError: ``interval`` is not an int >= 1 or None.
    """

    priority = 'NORMAL'

    def __init__(self, interval: Optional[int] = None) -> None:
        if interval is not None and (not isinstance(interval, int)
                                     or isinstance(interval, bool)
                                     or interval < 1):
            raise ValueError('FeatureGradNormHook: `interval` must be an int '
                             f'>= 1 or None (the logger\'s), got '
                             f'{interval!r}.')
        self.interval = interval

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner) -> None:
        """Take the logger's interval; check that the model can answer."""
        if not callable(getattr(self._model(runner), 'request_grad_norms',
                                None)):
            raise TypeError(
                'FeatureGradNormHook: the model must offer '
                '`request_grad_norms()` (UDAEncoderDecoder and its '
                f'subclasses); got {type(self._model(runner)).__name__}. '
                'Remove the hook from custom_hooks for this model.')
        if self.interval is None:
            loggers = [h for h in runner.hooks if isinstance(h, LoggerHook)]
            self.interval = loggers[0].interval if loggers else 50

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """On an iteration the logger prints, ask for the norms."""
        if self.every_n_inner_iters(batch_idx, self.interval):
            self._model(runner).request_grad_norms()
