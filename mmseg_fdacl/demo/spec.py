"""The pipeline spec: which configs make which step, and where outputs go."""
import copy
import os.path as osp

from mmengine.config import Config

TRAIN_STEPS = ('source_only', 'fda', 'stage1', 'stage2', 'oracle')
STEPS = ('data', 'source_only', 'fda', 'stage1', 'pseudo_labels', 'stage2',
         'oracle', 'evaluate', 'report')
# Table rows: (key, label). ``pseudo_labels`` is scored on the target train
# split, over the pixels it labels; the others on the evaluation split.
ROWS = (('source_only', 'Source only'), ('fda', 'FDA (single beta)'),
        ('stage1', 'Stage 1 (trg in trg)'), ('pseudo_labels', 'Pseudo labels'),
        ('stage2', 'Stage 2 (FDA + CL)'), ('oracle', 'Oracle (target labels)'))
NUM_VIS = 4


def load_spec(path: str) -> dict:
    """Read a pipeline spec (a Python config file) into a plain dict.

    Keys: ``work_dir`` (str), ``configs`` (dict step -> config path, steps
    from :data:`TRAIN_STEPS`; ``source_only``, ``stage1`` and ``stage2`` are
    required), ``pseudo_labels`` (dict of keyword arguments of
    :func:`mmseg_fdacl.apis.generate_pseudo_labels`: ``beta``,
    ``grayscale``, ``percentile``, ``cap``, ``threshold``, ``seed``),
    ``stage2_load_from_stage1`` (bool), ``data`` (optional dict of
    :func:`mmseg_fdacl.demo.synthetic.generate_uda_data` arguments plus
    ``out_dir``), ``cfg_options`` (optional dict step -> dict merged into that
    config), ``num_vis`` (int).

    Args:
        path (str): The spec file.

    Returns:
        dict: The checked spec (see :func:`check_spec`).
    """
    spec = Config.fromfile(path).to_dict()
    return check_spec(spec, path)


def check_spec(spec: dict, name: str = 'spec') -> dict:
    """Validate a pipeline spec dict (see :func:`load_spec`).

    Args:
        spec (dict): The spec (copied, not changed).
        name (str): What error messages call it. Default: 'spec'.

    Returns:
        dict: The spec with the defaults of the optional keys filled in.

    Raises:
        ValueError: A required key is missing or a step is unknown.
        FileNotFoundError: A step's config does not exist.
    """
    spec = copy.deepcopy(spec)
    configs = spec.get('configs')
    if not isinstance(configs, dict):
        raise ValueError(f'{name}: `configs` must be a dict step -> config '
                         f'path, got {configs!r}.')
    unknown = sorted(set(configs) - set(TRAIN_STEPS))
    if unknown:
        raise ValueError(f'{name}: unknown steps {unknown} in `configs`; '
                         f'allowed: {TRAIN_STEPS}.')
    for step in ('source_only', 'stage1', 'stage2'):
        if not configs.get(step):
            raise ValueError(f'{name}: `configs.{step}` is required.')
    for step, path in configs.items():
        if path and not osp.isfile(path):
            raise FileNotFoundError(
                f'{name}: config of step {step!r} not found: {path!r}.')
    spec['configs'] = {k: v for k, v in configs.items() if v}
    if not spec.get('work_dir'):
        raise ValueError(f'{name}: `work_dir` is required.')
    spec.setdefault('pseudo_labels', {})
    spec.setdefault('stage2_load_from_stage1', False)
    spec.setdefault('cfg_options', {})
    spec.setdefault('num_vis', NUM_VIS)
    return spec


def load_step_cfg(spec: dict, step: str) -> Config:
    """The config of a training step with the spec's overrides applied."""
    cfg = Config.fromfile(spec['configs'][step])
    opts = spec['cfg_options'].get(step)
    if opts:
        cfg.merge_from_dict(opts)
    return cfg


def final_checkpoint(work_dir: str, cfg: Config) -> str:
    """Path of the checkpoint an iteration-based run ends with.

    Raises:
        ValueError: The config is not iteration-based.
    """
    max_iters = cfg.train_cfg.get('max_iters')
    if max_iters is None:
        raise ValueError('the pipeline needs iteration-based configs '
                         '(train_cfg.max_iters); got train_cfg='
                         f'{dict(cfg.train_cfg)!r}.')
    return osp.join(work_dir, f'iter_{max_iters}.pth')
