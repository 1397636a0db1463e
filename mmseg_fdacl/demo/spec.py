"""The pipeline spec: which configs make which step, and where outputs go."""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

from mmengine.config import Config

# Ablation rows of stage 2 (``--ablation``): each trained like stage 2 (from
# the stage-1 checkpoint with ``stage2_load_from_stage1``, same schedule),
# except the steps of :data:`OWN_INIT_STEPS`.
ABLATION_ROWS = (
    ('stage2_pseudo_ce', 'Stage 2, pseudo-label CE instead of CL'),
    ('stage2_no_ent', 'Stage 2 without entropy'),
    ('stage2_cl_gt', 'Stage 2, CL on target labels (upper bound)'),
    ('stage2_fda_only', 'Stage 2, FDA only'),
    ('stage2_ref_timing',
     'Stage 2, reference timing (own init, target terms in the last sixth)'),
    ('stage2_ref_timing_no_cl', 'Stage 2, reference timing, no CL'))
ABLATION_STEPS = tuple(k for k, _ in ABLATION_ROWS)
# Stage-2-like steps that keep their config's own initialization (its
# ``load_from``; the demo has no ImageNet weights, so from scratch as the
# demo's other first trainings) even with ``stage2_load_from_stage1``: the
# reference's stage 2 starts from the ImageNet weights, not from stage 1.
OWN_INIT_STEPS = ('stage2_ref_timing', 'stage2_ref_timing_no_cl')
# The demo's ablation configs (``ablation=True``), relative to the repository
# root as the demo spec's configs are.
DEMO_ABLATION = dict(
    stage2_pseudo_ce='configs/fdacl/demo/stage2_pseudo-ce.py',
    stage2_no_ent='configs/fdacl/demo/stage2_no-ent.py',
    stage2_cl_gt='configs/fdacl/demo/stage2_cl-gt.py',
    stage2_fda_only='configs/fdacl/demo/stage2_fda-only.py',
    stage2_ref_timing='configs/fdacl/demo/stage2_reference-timing.py',
    stage2_ref_timing_no_cl='configs/fdacl/demo/'
    'stage2_reference-timing_no-cl.py')
# Online self-training rows (``--online``): each initialized from the
# source-only checkpoint (the demo has no ImageNet weights), same schedule;
# no pseudo-label folder (the mean teacher labels the target as it trains).
ONLINE_ROWS = (
    ('online_dacs', 'Online: mean teacher + ClassMix (DACS)'),
    ('online_rcs', 'Online + rare-class sampling (DAFormer recipe)'),
    ('online_mic', 'Online + RCS + MIC masking'),
    ('online_fda_cl', 'Online + RCS, FDA + CL (ours online)'))
ONLINE_STEPS = tuple(k for k, _ in ONLINE_ROWS)
DEMO_ONLINE = dict(
    online_dacs='configs/fdacl/demo/online_dacs.py',
    online_rcs='configs/fdacl/demo/online_rcs.py',
    online_mic='configs/fdacl/demo/online_mic.py',
    online_fda_cl='configs/fdacl/demo/online_fda-cl.py')
# Transformer rows (``--transformer``): the small MiT with the DAFormer head
# trained on the source alone, then DAFormer's online recipe, HRDA and MIC on
# HRDA on it, each online step initialized from that MiT source-only
# checkpoint (:data:`INIT_FROM`). ``transformer_only`` keeps only these rows.
TRANSFORMER_ROWS = (
    ('source_only_mit', 'Source only, small MiT + DAFormer head'),
    ('online_daformer', 'Online: DAFormer recipe (MiT)'),
    ('online_hrda', 'Online: HRDA (MiT)'),
    ('online_mic_hrda', 'Online: MIC on HRDA (MiT)'))
TRANSFORMER_STEPS = tuple(k for k, _ in TRANSFORMER_ROWS)
DEMO_TRANSFORMER = dict(
    source_only_mit='configs/fdacl/demo/source-only_mit.py',
    online_daformer='configs/fdacl/demo/online_daformer.py',
    online_hrda='configs/fdacl/demo/online_hrda.py',
    online_mic_hrda='configs/fdacl/demo/online_mic-hrda.py')
# The checkpoint each online step starts from (its step's final one).
INIT_FROM = {
    **{k: 'source_only' for k in ONLINE_STEPS},
    **{k: 'source_only_mit' for k in TRANSFORMER_STEPS[1:]}}
# Steps trained like stage 2: initialized from stage 1 (optionally) and given
# the pseudo labels when their target pipeline loads them.
STAGE2_STEPS = ('stage2', ) + ABLATION_STEPS
TRAIN_STEPS = ('source_only', 'fda', 'stage1'
               ) + STAGE2_STEPS + ONLINE_STEPS + TRANSFORMER_STEPS + (
                   'oracle', )
STEPS = ('data', 'source_only', 'fda', 'stage1', 'pseudo_labels'
         ) + STAGE2_STEPS + ONLINE_STEPS + TRANSFORMER_STEPS + (
             'oracle', 'evaluate', 'report')
# Table rows: (key, label). ``pseudo_labels`` is scored on the target train
# split, over the pixels it labels; the others on the evaluation split. Rows
# whose step the spec has no config for are left out.
ROWS = (('source_only', 'Source only'), ('fda', 'FDA (single beta)'),
        ('stage1', 'Stage 1 (trg in trg)'), ('pseudo_labels', 'Pseudo labels'),
        ('stage2', 'Stage 2 (FDA + CL)')
        ) + ABLATION_ROWS + ONLINE_ROWS + TRANSFORMER_ROWS + (
            ('oracle', 'Oracle (target labels)'), )
NUM_VIS = 4


def load_spec(path: str) -> dict:
    """Read a pipeline spec (a Python config file) into a plain dict.

    Keys: ``work_dir`` (str), ``configs`` (dict step -> config path, steps
    from :data:`TRAIN_STEPS`; ``source_only``, ``stage1`` and ``stage2`` are
    required), ``pseudo_labels`` (dict of keyword arguments of
    :func:`mmseg_fdacl.apis.generate_pseudo_labels`: ``beta``,
    ``grayscale``, ``percentile``, ``cap``, ``threshold``, ``seed``),
    ``stage2_load_from_stage1`` (bool: every stage-2-like step but those
    of :data:`OWN_INIT_STEPS` starts from the stage-1 checkpoint), ``data``
    (optional dict of
    :func:`mmseg_fdacl.demo.synthetic.generate_uda_data` arguments plus
    ``out_dir``), ``cfg_options`` (optional dict step -> dict merged into that
    config), ``num_vis`` (int), ``ablation`` (optional: True for the demo's
    ablation configs :data:`DEMO_ABLATION`, or a dict step -> config path,
    steps from :data:`ABLATION_STEPS`; their rows follow stage 2),
    ``online`` (optional: True for the demo's online self-training configs
    :data:`DEMO_ONLINE`, or a dict step -> config path, steps from
    :data:`ONLINE_STEPS`), ``transformer`` (optional: True for the demo's
    transformer rows :data:`DEMO_TRANSFORMER`, or a dict step -> config
    path, steps from :data:`TRANSFORMER_STEPS`), ``transformer_only``
    (optional bool: keep only the transformer rows; then ``source_only``,
    ``stage1`` and ``stage2`` are not required), ``seeds``
    (optional list of ints: one run per seed, see
    :mod:`mmseg_fdacl.demo.seeds`).

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
    spec['ablation'] = _check_rows(spec.get('ablation'), name, 'ablation',
                                   DEMO_ABLATION, ABLATION_STEPS)
    spec['online'] = _check_rows(spec.get('online'), name, 'online',
                                 DEMO_ONLINE, ONLINE_STEPS)
    spec['transformer'] = _check_rows(spec.get('transformer'), name,
                                      'transformer', DEMO_TRANSFORMER,
                                      TRANSFORMER_STEPS)
    spec['transformer_only'] = bool(spec.get('transformer_only'))
    if spec['transformer_only']:
        if not spec['transformer']:
            raise ValueError(f'{name}: `transformer_only` needs '
                             '`transformer` rows.')
        configs = {k: v for k, v in configs.items()
                   if k in TRANSFORMER_STEPS}
        spec['ablation'], spec['online'] = {}, {}
    for step, path in {**spec['ablation'], **spec['online'],
                       **spec['transformer']}.items():
        configs.setdefault(step, path)
    spec['seeds'] = _check_seeds(spec.get('seeds'), name)
    unknown = sorted(set(configs) - set(TRAIN_STEPS))
    if unknown:
        raise ValueError(f'{name}: unknown steps {unknown} in `configs`; '
                         f'allowed: {TRAIN_STEPS}.')
    required = (('source_only_mit', ) if spec['transformer_only'] else
                ('source_only', 'stage1', 'stage2'))
    for step in required:
        if not configs.get(step):
            raise ValueError(f'{name}: `configs.{step}` is required.')
    for step, init in INIT_FROM.items():
        if configs.get(step) and not configs.get(init):
            raise ValueError(f'{name}: step {step!r} starts from the '
                             f'checkpoint of {init!r}; give `configs.{init}`.')
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
    spec.setdefault('common_cfg_options', {})
    if not isinstance(spec['common_cfg_options'], dict):
        raise ValueError(f'{name}: `common_cfg_options` must be a dict of '
                         f'config keys, got {spec["common_cfg_options"]!r}.')
    spec.setdefault('num_vis', NUM_VIS)
    return spec


def _check_rows(rows: Union[None, bool, dict], name: str, key: str,
                demo: Dict[str, str],
                allowed: Sequence[str]) -> Dict[str, str]:
    """The optional rows a spec asks for under ``key`` (step -> config).

    Args:
        rows (bool | dict | None): None or False (none), True (the demo's,
            ``demo``) or a dict step -> config path.
        name (str): What error messages call the spec.
        key (str): The spec key (``'ablation'`` or ``'online'``).
        demo (dict): The demo's configs of these rows.
        allowed (Sequence[str]): The steps these rows may name.

    Returns:
        dict: Step -> config path; empty without such rows.

    Raises:
        ValueError: Not one of those, or a step outside ``allowed``.
    """
    if rows is None or rows is False:
        return {}
    if rows is True:
        return dict(demo)
    if not isinstance(rows, dict):
        raise ValueError(f'{name}: `{key}` must be a bool or a dict step '
                         f'-> config path, got {rows!r}.')
    unknown = sorted(set(rows) - set(allowed))
    if unknown:
        raise ValueError(f'{name}: unknown {key} steps {unknown}; '
                         f'allowed: {tuple(allowed)}.')
    return {k: v for k, v in rows.items() if v}


def _check_seeds(seeds: Optional[Sequence[int]],
                 name: str) -> Optional[List[int]]:
    """The spec's seeds: None (one run, the configs' own seeds) or a list
    of distinct ints >= 0.

    Raises:
        ValueError: An empty list, a repeated seed or not an int >= 0.
    """
    if seeds is None:
        return None
    seeds = list(seeds)
    bad = [s for s in seeds
           if not isinstance(s, int) or isinstance(s, bool) or s < 0]
    if not seeds or bad or len(set(seeds)) != len(seeds):
        raise ValueError(f'{name}: `seeds` must be distinct ints >= 0, got '
                         f'{seeds!r}.')
    return seeds


def loads_pseudo_labels(cfg: Config) -> bool:
    """Whether a stage-2-like config's target pipeline reads pseudo labels
    (``LoadPseudoLabel``), i.e. it trains with the pseudo-label folder."""
    dataset = cfg.train_dataloader.dataset
    target = dataset.get('target') or {}
    return any(t.get('type') == 'LoadPseudoLabel'
               for t in target.get('pipeline') or [])


def load_step_cfg(spec: dict, step: str) -> Config:
    """The config of a training step with the spec's overrides applied: the
    step's ``cfg_options``, then ``common_cfg_options``."""
    cfg = Config.fromfile(spec['configs'][step])
    for opts in (spec['cfg_options'].get(step),
                 spec.get('common_cfg_options')):
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
