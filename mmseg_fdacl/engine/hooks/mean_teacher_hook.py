"""The mean teacher of online self-training, kept by a hook.

The segmentor computes losses and the runner steps the optimizer, so the
teacher (an EMA of the student, :class:`TeacherEMA`) is updated here, after
each optimizer step, and lent to the segmentor, which predicts pseudo labels
with it. DAFormer (Hoyer et al., CVPR 2022) updates inside its training step
instead; the arithmetic and the order (the pseudo labels of iteration ``t``
come from the teacher averaged over the student's first ``t`` steps) are the
same.
"""
import itertools
import logging
from typing import Dict, Optional

import torch
from mmengine.dist import broadcast, get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS, MODELS

__all__ = ['MeanTeacherHook']

CHECKPOINT_KEY = 'mean_teacher'
_EVALUATE = ('student', 'teacher')


@HOOKS.register_module()
class MeanTeacherHook(Hook):
    """Create, update, save, restore and (optionally) evaluate the teacher.

    * ``before_run``: the teacher is built as a copy of the segmentor and
      handed to it with ``attach_teacher`` (not a submodule: the student's
      state dict keeps :class:`mmseg.models.EncoderDecoder`'s keys, so
      ``tools/test.py`` with a plain config still loads the student).
    * ``before_train``: unless a checkpoint gave the teacher, it starts as a
      copy of the student, after ``load_from`` / weight init (DAFormer's
      ``_init_ema_weights``).
    * ``after_train_iter``: one EMA update.
    * checkpoints: ``checkpoint['mean_teacher']`` holds the teacher's state
      dict and its update count (``steps``); a resume restores both, so the
      resumed run is bit-identical to an uninterrupted one.
    * ``evaluate='teacher'``: validation and ``tools/test.py`` swap the
      teacher's weights into the model for the evaluation (as mmengine's
      ``EMAHook``) and back afterwards.

    Under DDP every rank averages the same (all-reduced) student parameters;
    the copied BatchNorm buffers differ per rank after a training forward,
    so they are broadcast from rank 0 after each update (as DDP's
    ``broadcast_buffers``): the teacher is identical on every rank.

    Args:
        alpha (float): Final EMA weight (:class:`TeacherEMA`). Default: 0.999.
        evaluate (str): Which weights validation and testing use:
            ``'student'`` (what DACS, DAFormer and MIC evaluate and report) or
            ``'teacher'``. Default: 'student'.
        update_buffers (bool): Average BatchNorm buffers instead of copying
            them. Default: False.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 alpha: float = 0.999,
                 evaluate: str = 'student',
                 update_buffers: bool = False) -> None:
        if evaluate not in _EVALUATE:
            raise ValueError(f'MeanTeacherHook: `evaluate` must be one of '
                             f'{_EVALUATE}, got {evaluate!r}.')
        self.alpha = alpha
        self.evaluate = evaluate
        self.update_buffers = update_buffers
        self.ema: Optional[torch.nn.Module] = None
        self._from_checkpoint = False
        self._swapped = False

    @staticmethod
    def _student(runner) -> torch.nn.Module:
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        if not hasattr(model, 'attach_teacher'):
            raise TypeError(
                f'MeanTeacherHook: the model is a {type(model).__name__}, '
                'which takes no teacher; use '
                "model=dict(type='SelfTrainingEncoderDecoder', ...) or "
                'remove the hook from custom_hooks.')
        return model

    # -- life cycle ------------------------------------------------------
    def before_run(self, runner) -> None:
        """Build the teacher and lend it to the segmentor."""
        student = self._student(runner)
        device = next(student.parameters()).device
        self.ema = MODELS.build(
            dict(
                type='TeacherEMA',
                model=student,
                alpha=self.alpha,
                device=device,
                update_buffers=self.update_buffers))
        student.attach_teacher(self.ema.module)

    def before_train(self, runner) -> None:
        """Start the teacher as the student unless a checkpoint gave it."""
        if not self._from_checkpoint or int(self.ema.steps) == 0:
            self.ema.steps.zero_()
            self.ema.update_parameters(self._student(runner))
        self._sync_from_rank0(buffers_only=False)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        """One EMA update after the optimizer step."""
        self.ema.update_parameters(self._student(runner))
        self._sync_from_rank0(buffers_only=True)

    def _sync_from_rank0(self, buffers_only: bool) -> None:
        _, world_size = get_dist_info()
        if world_size == 1:
            return
        module = self.ema.module
        tensors = (
            module.buffers() if buffers_only else itertools.chain(
                module.parameters(), module.buffers()))
        for tensor in tensors:
            broadcast(tensor.data, src=0)

    # -- checkpoints -----------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add ``checkpoint['mean_teacher']`` (tensors only)."""
        checkpoint[CHECKPOINT_KEY] = {
            key: value.detach().cpu().clone()
            for key, value in self.ema.state_dict().items()
        }

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the teacher (resume, test, or load_from of an online
        checkpoint)."""
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is None:
            if runner._resume:
                print_log(
                    'MeanTeacherHook: the resumed checkpoint has no '
                    "'mean_teacher'; the teacher restarts as a copy of the "
                    'student, so the run is not the uninterrupted one.',
                    'current', logging.WARNING)
            self._from_checkpoint = False
            return
        missing, unexpected = self.ema.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise KeyError(
                "MeanTeacherHook: checkpoint['mean_teacher'] does not match "
                f'this model (missing {missing[:5]}, unexpected '
                f'{unexpected[:5]}); it was saved by another model config.')
        self._from_checkpoint = True

    # -- evaluation ------------------------------------------------------
    def _swap(self, runner) -> None:
        student = self._student(runner)
        pairs = zip(
            itertools.chain(self.ema.module.parameters(),
                            self.ema.module.buffers()),
            itertools.chain(student.parameters(), student.buffers()))
        for p_teacher, p_student in pairs:
            tmp = p_teacher.data.clone()
            p_teacher.data.copy_(p_student.data)
            p_student.data.copy_(tmp)
        self._swapped = not self._swapped

    def _check_teacher_known(self) -> None:
        if not self._from_checkpoint and int(self.ema.steps) == 0:
            raise RuntimeError(
                "MeanTeacherHook: evaluate='teacher' but the loaded "
                "checkpoint has no 'mean_teacher' weights (it was not saved "
                "by an online self-training run); set evaluate='student' on "
                'MeanTeacherHook in custom_hooks (--cfg-options '
                'custom_hooks.N.evaluate=student, N its position) or test '
                'with a plain config.')

    def _before_eval(self, runner) -> None:
        if self.evaluate == 'teacher':
            self._check_teacher_known()
            self._swap(runner)

    def _after_eval(self, runner) -> None:
        if self._swapped:
            self._swap(runner)

    def before_val_epoch(self, runner) -> None:
        self._before_eval(runner)

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        self._after_eval(runner)

    def before_test_epoch(self, runner) -> None:
        self._before_eval(runner)

    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        self._after_eval(runner)
