"""Several MMSeg runners in one process: training (resumable) and the
shared set-up of every runner the pipeline starts."""
import copy
import os.path as osp
import uuid
from typing import Optional

from mmengine.config import Config
from mmengine.runner import Runner

from mmseg_fdacl.pseudo_labels.report import log_flag
from .spec import final_checkpoint


def runner_cfg(cfg: Config, work_dir: str) -> Config:
    """A copy of ``cfg`` for one more runner in this process.

    Each runner gets its own ``work_dir`` and its own instances of mmengine's
    named singletons (logger, message hub, visualizer): the experiment and
    visualizer names are made unique.

    Args:
        cfg (Config): A training or test config (not changed).
        work_dir (str): The runner's work dir (logs, checkpoints).

    Returns:
        Config: The copy.
    """
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    name = f'{osp.basename(work_dir)}_{uuid.uuid4().hex[:8]}'
    cfg.experiment_name = name
    if cfg.get('visualizer'):
        cfg.visualizer.name = name
    return cfg


def train(cfg: Config,
          work_dir: str,
          *,
          load_from: Optional[str] = None,
          pseudo_label_dir: Optional[str] = None) -> str:
    """Train one model with MMSeg's runner, resuming a partial run.

    Args:
        cfg (Config): The training config.
        work_dir (str): Where checkpoints and logs go.
        load_from (str, optional): Initialize from this checkpoint.
        pseudo_label_dir (str, optional): Pseudo-label folder of the
            ``UDADataset`` (``train_dataloader.dataset``); its flag
            (:func:`mmseg_fdacl.pseudo_labels.report.log_flag`) opens the
            run's log.

    Returns:
        str: The final checkpoint (returned at once if it exists).

    Raises:
        RuntimeError: Training ended without the final checkpoint.
    """
    final = final_checkpoint(work_dir, cfg)
    if osp.isfile(final):
        return final
    cfg = runner_cfg(cfg, work_dir)
    if load_from is not None:
        cfg.load_from = load_from
    if pseudo_label_dir is not None:
        cfg.train_dataloader.dataset.pseudo_label_dir = pseudo_label_dir
    cfg.resume = osp.isfile(osp.join(work_dir, 'last_checkpoint'))
    runner = Runner.from_cfg(cfg)
    if pseudo_label_dir is not None:
        # In this run's log: the classes its pseudo labels drop.
        log_flag(pseudo_label_dir, logger=runner.logger)
    runner.train()
    if not osp.isfile(final):
        raise RuntimeError(f'training in {work_dir} ended without {final}.')
    return final
