"""How the pipeline driver hands its stage-1 checkpoint to a stage-2 config.

A stage-2 config for ``tools/train.py`` carries a ``PseudoLabelHook`` that
labels the target from the checkpoint named by a config variable (the
DeepLabV2, ENet and VGG16 configs: ``stage1_checkpoint``, pointing at
``work_dirs/<stage-1 config>/iter_<n>.pth``). The pipeline driver writes
stage 1 under ``<work_dir>/stage1/`` and makes the pseudo labels as a step of
its own, so it labels exactly as that hook would (the hook's model, pipeline
and settings) and points the hook at the driver's checkpoint and folder: the
hook then finds the folder complete and reuses it, and its later
self-training rounds (``interval``) work as under ``tools/train.py``.

A stage-2 config without the hook (the demo's) is labeled with the stage-1
config's model and test pipeline and the spec's settings.
"""
import copy
from typing import Optional, Tuple

from mmengine.config import Config, ConfigDict

from mmseg_fdacl.engine.hooks.pseudo_label_hook import SETTINGS
from mmseg_fdacl.pseudo_labels import inference_pipeline_from_cfg

__all__ = ['pseudo_label_hook_cfg', 'labeling_for', 'bind_stage1']


def pseudo_label_hook_cfg(cfg: Config) -> Optional[ConfigDict]:
    """The config's first ``PseudoLabelHook`` entry (not a copy), or None."""
    for hook in cfg.get('custom_hooks') or []:
        if hook.get('type') == 'PseudoLabelHook':
            return hook
    return None


def _hook_settings(hook: Optional[dict], overrides: dict) -> dict:
    """The pseudo-label settings: the hook's (with the library defaults),
    then the spec's ``overrides``; without a hook only the overrides."""
    if hook is None:
        return dict(overrides)
    settings = {k: hook.get(k, v) for k, v in SETTINGS.items()}
    settings.update(overrides)
    return settings


def labeling_for(stage2_cfg: Config, stage1_cfg: Config,
                 overrides: dict) -> Tuple[dict, list, dict]:
    """Model, inference pipeline and settings the pseudo labels are made with.

    Args:
        stage2_cfg (Config): The stage-2 config (its ``PseudoLabelHook``, if
            any, decides).
        stage1_cfg (Config): The stage-1 config (used without a hook).
        overrides (dict): The spec's ``pseudo_labels`` settings; they win.

    Returns:
        tuple: ``(model, pipeline, settings)`` for
        :func:`mmseg_fdacl.apis.generate_pseudo_labels`.
    """
    hook = pseudo_label_hook_cfg(stage2_cfg)
    if hook is None:
        return (stage1_cfg.model,
                inference_pipeline_from_cfg(stage1_cfg.get('test_pipeline')),
                dict(overrides))
    # As PseudoLabelHook._label: its own model/pipeline, else the runner's.
    model = hook.get('model') or stage2_cfg.model
    pipeline = hook.get('pipeline')
    if pipeline is None:
        pipeline = inference_pipeline_from_cfg(
            stage2_cfg.get('pseudo_label_pipeline',
                           stage2_cfg.get('test_pipeline')))
    return model, pipeline, _hook_settings(hook, overrides)


def bind_stage1(cfg: Config, stage1_checkpoint: str, out_dir: str,
                overrides: dict) -> None:
    """Point a stage-2 config's ``PseudoLabelHook`` at the driver's stage 1.

    In place: the config variable the hook reads (``checkpoints_key``), or
    its ``checkpoints``, becomes ``stage1_checkpoint``; a ``load_from`` that
    named the old stage-1 checkpoint follows it; the hook writes (reuses)
    ``out_dir`` and gets the spec's ``overrides`` of the settings. A config
    without the hook, or whose hook labels with the model being trained (no
    checkpoints), is left as it is.

    Args:
        cfg (Config): The stage-2 config (changed).
        stage1_checkpoint (str): The driver's final stage-1 checkpoint.
        out_dir (str): The driver's pseudo-label folder.
        overrides (dict): The spec's ``pseudo_labels`` settings.
    """
    hook = pseudo_label_hook_cfg(cfg)
    if hook is None:
        return
    key = hook.get('checkpoints_key')
    if key:
        old = copy.deepcopy(cfg.get(key))
        cfg[key] = stage1_checkpoint
    elif hook.get('checkpoints') is not None:
        old = copy.deepcopy(hook.get('checkpoints'))
        hook['checkpoints'] = [stage1_checkpoint]
    else:
        # The hook labels with the model being trained (round 0 after
        # load_from): nothing of stage 1 to bind.
        return
    old_paths = [old] if isinstance(old, str) else list(old or [])
    if cfg.get('load_from') and cfg.load_from in old_paths:
        cfg.load_from = stage1_checkpoint
    hook['out_dir'] = out_dir
    hook.update(overrides)
