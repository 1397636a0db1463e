"""What a training config says about pseudo labels: datasets and pipeline."""
from typing import List, Optional, Sequence, Tuple

from mmengine.config import Config

__all__ = ['inference_pipeline_from_cfg', 'datasets_from_config']


def inference_pipeline_from_cfg(
        pipeline: Optional[Sequence[dict]]) -> List[dict]:
    """An inference pipeline for unlabeled images from a test pipeline.

    Drops ``LoadAnnotations`` and ``SafeLoadAnnotations`` (target training
    images need no labels) and returns the default ``[LoadImageFromFile, PackSegInputs]`` for None.

    Args:
        pipeline (Sequence[dict], optional): E.g. a config's
            ``test_pipeline``.

    Returns:
        list[dict]: Transform configs.
    """
    if not pipeline:
        return [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]
    drop = ('LoadAnnotations', 'SafeLoadAnnotations')
    return [dict(t) for t in pipeline if t.get('type') not in drop]


def datasets_from_config(cfg: Config) -> Tuple[dict, Optional[dict]]:
    """The target and source dataset configs of a UDA training config.

    Args:
        cfg (Config): A config whose ``train_dataloader.dataset`` is a
            ``UDADataset`` (stage 1, stage 2, FDA configs).

    Returns:
        tuple: ``(target, source)`` dataset configs.

    Raises:
        ValueError: If the config trains no UDADataset.
    """
    ds = cfg.get('train_dataloader', {}).get('dataset', {})
    if 'target' not in ds:
        raise ValueError(
            f'{getattr(cfg, "filename", "the config")}: train_dataloader.'
            "dataset has no 'target' (type "
            f"{ds.get('type')!r}); pass a UDA config (stage 1/2) whose "
            'train dataset is a UDADataset with source and target.')
    return ds['target'], ds.get('source')
