"""A CheckpointHook whose saves survive being killed at any moment."""
import math
import os.path as osp
from typing import Any, Dict, List

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from mmseg_fdacl.utils.atomic_io import ATOMIC_BACKEND, atomic_write

__all__ = ['AtomicCheckpointHook']


def _non_finite_params(model: torch.nn.Module) -> List[str]:
    if is_model_wrapper(model):
        model = model.module
    return [
        name for name, value in model.state_dict().items()
        if value.is_floating_point() and not bool(torch.isfinite(value).all())
    ]


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with crash-safe saving.

    What mmengine 0.10.7 does, and what can go wrong when the process is
    killed (SIGKILL, OOM killer, preemption) during a save:

    * checkpoints are written in place (``open(path, 'wb')``): a kill leaves
      a truncated ``iter_N.pth``;
    * with ``max_keep_ckpts`` the oldest kept checkpoint is deleted *before*
      the new one is written: with ``max_keep_ckpts=1`` a kill during the
      save leaves ``last_checkpoint`` naming a deleted file and no valid
      checkpoint at all;
    * ``last_checkpoint`` itself is rewritten in place;
    * the previous best checkpoint is deleted before the new best is written.

    Here every file goes through :func:`mmseg_fdacl.utils.atomic_io.atomic_write`
    (temporary file, fsync, rename; ``backend_args`` defaults to
    ``dict(backend='atomic_local')`` for local ``out_dir``), and the order is:
    write the new checkpoint, then point ``last_checkpoint`` at it, then
    delete outdated checkpoints (and the previous best only after the new
    best exists). At every instant ``last_checkpoint`` names a complete file.

    A best checkpoint is never taken from a model whose weights are not
    finite (see also :class:`NonFiniteGuardOptimWrapper`).

    Args:
        **kwargs: As :class:`mmengine.hooks.CheckpointHook`.
    """

    def __init__(self, **kwargs: Any) -> None:
        out_dir = kwargs.get('out_dir')
        local = out_dir is None or '://' not in str(out_dir)
        if local and kwargs.get('backend_args') is None and kwargs.get(
                'file_client_args') is None:
            kwargs['backend_args'] = dict(backend=ATOMIC_BACKEND)
        super().__init__(**kwargs)

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: Dict[str, Any]) -> None:
        """Save, point ``last_checkpoint`` at it, then delete outdated ones."""
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            # keep_ckpt_ids is a deque(maxlen=max_keep_ckpts): pop before
            # appending so the dropped step is known.
            while len(self.keep_ckpt_ids) >= self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write(osp.join(runner.work_dir, 'last_checkpoint'),
                     self.last_ckpt)
        for old_step in outdated:
            self._remove(self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old_step)))

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            self.file_backend.rmtree(path)

    def _save_best_checkpoint(self, runner, metrics: Dict[str, Any]) -> None:
        """mmengine's best-checkpoint logic, deleting the old best last."""
        if not self.save_best:
            return
        bad = _non_finite_params(runner.model)
        bad_metrics = [
            k for k in self.key_indicators
            if isinstance(metrics.get(k), float) and not math.isfinite(
                metrics[k])
        ]
        if bad or bad_metrics:
            runner.logger.error(
                'AtomicCheckpointHook: not saving a best checkpoint at '
                f'iteration {runner.iter}: non-finite weights {bad[:5]} / '
                f'metrics {bad_metrics}.')
            return
        # mmengine deletes the path held in best_ckpt_path(_dict) before
        # writing the new best; hide the old paths from it and delete them
        # only once the new best is on disk.
        single = len(self.key_indicators) == 1
        old = ({None: self.best_ckpt_path} if single else dict(
            getattr(self, 'best_ckpt_path_dict', {})))
        if single:
            self.best_ckpt_path = None
        else:
            self.best_ckpt_path_dict = {k: None for k in old}
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            new = ({None: self.best_ckpt_path} if single else dict(
                self.best_ckpt_path_dict))
            for key, old_path in old.items():
                if new.get(key) is None:
                    # Not improved: keep the previous best.
                    if single:
                        self.best_ckpt_path = old_path
                    else:
                        self.best_ckpt_path_dict[key] = old_path
                elif old_path and old_path != new[key] and is_main_process():
                    self._remove(old_path)
                    runner.logger.info(
                        f'The previous best checkpoint {old_path} is removed')
