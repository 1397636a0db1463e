"""The whole method as one resumable pipeline.

Steps, in order (each skipped when its output exists, so an interrupted run
resumes where it stopped):

1. ``data``: generate the embedded two-domain data set (only when a data
   spec is given, i.e. the demo) and convert the source labels with the GTA5
   converter.
2. ``source_only``, ``fda``, ``stage1``: train (MMSeg's runner); done when
   ``<work_dir>/<step>/iter_<max_iters>.pth`` exists; a partial run resumes
   from its ``last_checkpoint``.
3. ``pseudo_labels``: the stage-1 checkpoint labels the target train split
   (:func:`mmseg_fdacl.apis.generate_pseudo_labels`; done when its manifest
   is complete).
4. ``stage2``: trained with those pseudo labels (optionally initialised from
   stage 1).
5. ``oracle``: trained on the target's own labels (an upper bound).
6. ``evaluate``: per-class IoU of every model on the target evaluation split
   with MMSeg's IoU arithmetic, and of the pseudo labels on the target train
   split; one ``eval.json`` per row.
7. ``report``: the table (Markdown, JSON, printed), gap closed, per-class bar
   chart, training-loss curves, FDA figure, prediction and pseudo-label
   visualisations in the Cityscapes palette.

Steps whose config is not given (e.g. no oracle on real Cityscapes without
the budget for it) are left out of the table. An output older than what it is
made from is stale: evaluation rows and the report are then redone; stale
pseudo labels or a stale stage 2 raise an error naming what to delete.
"""
import copy
import glob
import json
import os
import os.path as osp
import time
import uuid
from typing import Callable, Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log

TRAIN_STEPS = ('source_only', 'fda', 'stage1', 'stage2', 'oracle')
STEPS = ('data', 'source_only', 'fda', 'stage1', 'pseudo_labels', 'stage2',
         'oracle', 'evaluate', 'report')
# Table rows: (key, label). ``pseudo_labels`` is scored on the target train
# split, over the pixels it labels; the others on the evaluation split.
ROWS = (('source_only', 'Source only'), ('fda', 'FDA (single beta)'),
        ('stage1', 'Stage 1 (trg in trg)'), ('pseudo_labels', 'Pseudo labels'),
        ('stage2', 'Stage 2 (FDA + CL)'), ('oracle', 'Oracle (target labels)'))
NUM_VIS = 4

Logger = Callable[[str], None]


def _log(msg: str) -> None:
    print_log(msg, logger='current')


# -- spec ---------------------------------------------------------------------
def load_spec(path: str) -> dict:
    """Read a pipeline spec (a Python config file) into a plain dict.

    Keys: ``work_dir`` (str), ``configs`` (dict step -> config path, steps
    from :data:`TRAIN_STEPS`; ``source_only``, ``stage1`` and ``stage2`` are
    required), ``pseudo_labels`` (dict of keyword arguments of
    :func:`generate_pseudo_labels`: ``beta``, ``grayscale``, ``percentile``,
    ``cap``, ``threshold``, ``seed``), ``stage2_load_from_stage1`` (bool),
    ``data`` (optional dict of :func:`generate_uda_data` arguments plus
    ``out_dir``), ``cfg_options`` (optional dict step -> dict merged into that
    config), ``num_vis`` (int).
    """
    spec = Config.fromfile(path).to_dict()
    return check_spec(spec, path)


def check_spec(spec: dict, name: str = 'spec') -> dict:
    """Validate a pipeline spec dict (see :func:`load_spec`)."""
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


# -- training -------------------------------------------------------------
def load_step_cfg(spec: dict, step: str) -> Config:
    """The config of a training step with the spec's overrides applied."""
    cfg = Config.fromfile(spec['configs'][step])
    opts = spec['cfg_options'].get(step)
    if opts:
        cfg.merge_from_dict(opts)
    return cfg


def final_checkpoint(work_dir: str, cfg: Config) -> str:
    """Path of the checkpoint an iteration-based run ends with."""
    max_iters = cfg.train_cfg.get('max_iters')
    if max_iters is None:
        raise ValueError('the pipeline needs iteration-based configs '
                         '(train_cfg.max_iters); got train_cfg='
                         f'{dict(cfg.train_cfg)!r}.')
    return osp.join(work_dir, f'iter_{max_iters}.pth')


def train(cfg: Config, work_dir: str, *, load_from: Optional[str] = None,
          pseudo_label_dir: Optional[str] = None) -> str:
    """Train one model with MMSeg's runner, resuming a partial run.

    Args:
        cfg (Config): The training config.
        work_dir (str): Where checkpoints and logs go.
        load_from (str, optional): Initialise from this checkpoint.
        pseudo_label_dir (str, optional): Pseudo-label folder of the
            ``UDADataset`` (``train_dataloader.dataset``).

    Returns:
        str: The final checkpoint.
    """
    from mmengine.runner import Runner
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    final = final_checkpoint(work_dir, cfg)
    if osp.isfile(final):
        return final
    if load_from is not None:
        cfg.load_from = load_from
    if pseudo_label_dir is not None:
        cfg.train_dataloader.dataset.pseudo_label_dir = pseudo_label_dir
    cfg.resume = osp.isfile(osp.join(work_dir, 'last_checkpoint'))
    # Several runners live in this process: give each its own instances of
    # mmengine's named singletons (visualizer, message hub, logger).
    name = f'{osp.basename(work_dir)}_{uuid.uuid4().hex[:8]}'
    cfg.experiment_name = name
    if cfg.get('visualizer'):
        cfg.visualizer.name = name
    runner = Runner.from_cfg(cfg)
    runner.train()
    if not osp.isfile(final):
        raise RuntimeError(f'training in {work_dir} ended without {final}.')
    return final


# -- evaluation -------------------------------------------------------------
def _iou_table(intersect: np.ndarray, union: np.ndarray,
               pred: np.ndarray, label: np.ndarray) -> dict:
    from mmseg.evaluation import IoUMetric
    m = IoUMetric.total_area_to_metrics(
        torch.from_numpy(intersect), torch.from_numpy(union),
        torch.from_numpy(pred), torch.from_numpy(label), ['mIoU'])
    iou = [float(v) * 100 for v in np.asarray(m['IoU'], np.float64)]
    valid = [v for v, n in zip(iou, label) if n > 0 and not np.isnan(v)]
    return dict(
        IoU=[None if np.isnan(v) else v for v in iou],
        mIoU=float(np.mean(valid)) if valid else 0.0,
        aAcc=float(m['aAcc']) * 100)


def _accumulate(areas: List[np.ndarray], pred: torch.Tensor,
                gt: torch.Tensor, num_classes: int,
                ignore_index: int) -> None:
    from mmseg.evaluation import IoUMetric
    out = IoUMetric.intersect_and_union(pred, gt, num_classes, ignore_index)
    for a, o in zip(areas, out):
        a += o.numpy().astype(np.float64)


def evaluate_model(cfg: Config, checkpoint: str, out_file: str, *,
                   vis_dir: Optional[str] = None, num_vis: int = NUM_VIS,
                   device: Optional[str] = None) -> dict:
    """Per-class IoU of a checkpoint on ``cfg.test_dataloader.dataset``.

    The model predicts as in ``tools/test.py`` (its ``test_step``); areas
    are summed with :meth:`IoUMetric.intersect_and_union` and turned into
    IoU with :meth:`IoUMetric.total_area_to_metrics`. Classes absent from the
    ground truth are left out of the mean, as MMSeg does.

    Writes ``out_file`` (JSON: ``classes``, ``IoU`` per class in %, ``mIoU``,
    ``aAcc``, ``checkpoint``, ``num_images``) and, with ``vis_dir``, the first
    ``num_vis`` predictions as train-id PNGs named after the images.
    """
    from mmseg.registry import DATASETS

    from mmseg_fdacl.utils.progress import progress_bar

    from .pseudo_labels import build_models
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model = build_models(cfg.model, [checkpoint], device)[0]
    dataset = DATASETS.build(copy.deepcopy(cfg.test_dataloader.dataset))
    classes = list(dataset.metainfo['classes'])
    num_classes = len(classes)
    ignore_index = dataset.ignore_index
    areas = [np.zeros(num_classes) for _ in range(4)]
    bar = progress_bar(len(dataset), 'evaluation')
    if vis_dir:
        os.makedirs(vis_dir, exist_ok=True)
    with torch.no_grad():
        for i in range(len(dataset)):
            item = dataset[i]
            sample = model.test_step(pseudo_collate([item]))[0]
            pred = sample.pred_sem_seg.data.squeeze(0).cpu()
            gt = sample.gt_sem_seg.data.squeeze(0).cpu().to(pred)
            _accumulate(areas, pred, gt, num_classes, ignore_index)
            if vis_dir and i < num_vis:
                name = osp.splitext(osp.basename(sample.img_path))[0]
                cv2.imwrite(
                    osp.join(vis_dir, name + '.png'),
                    pred.numpy().astype(np.uint8))
            bar.update()
    bar.close()
    result = _iou_table(*areas)
    result.update(
        classes=classes,
        checkpoint=osp.abspath(checkpoint),
        num_images=len(dataset))
    _write_json(out_file, result)
    return result


def score_pseudo_labels(label_dir: str, target_dataset: dict,
                        out_file: str) -> dict:
    """The pseudo-label row: :func:`evaluate_pseudo_labels` (IoU over the
    pixels the pseudo labels keep, as the reference's "Pseudo Labels" row,
    plus their ``coverage``) in the layout of :func:`evaluate_model`."""
    from .pseudo_labels import evaluate_pseudo_labels
    r = evaluate_pseudo_labels(label_dir, target_dataset)
    if r is None:
        raise FileNotFoundError(
            'the target train split has no ground truth to score the pseudo '
            'labels against; leave the pseudo-label row out.')
    iou = [None if np.isnan(v) else float(v) for v in r['iou']]
    result = dict(
        classes=r['classes'],
        IoU=iou,
        mIoU=float(r['miou']),
        coverage=float(r['coverage']),
        label_dir=osp.abspath(label_dir),
        num_images=r['num_images'])
    _write_json(out_file, result)
    return result


def _write_json(path: str, obj) -> None:
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    tmp = f'{path}.tmp-{uuid.uuid4().hex[:6]}'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


# -- report -----------------------------------------------------------------
def results_table(results: Dict[str, dict]) -> dict:
    """Rows in :data:`ROWS` order plus the fraction of the gap closed."""
    rows = []
    classes = None
    for key, label in ROWS:
        if key in results:
            r = results[key]
            classes = classes or r['classes']
            rows.append(dict(key=key, method=label, IoU=r['IoU'],
                             mIoU=r['mIoU']))
    table = dict(classes=classes, rows=rows, gap_closed=None)
    src, st2, ora = (results.get(k, {}).get('mIoU')
                     for k in ('source_only', 'stage2', 'oracle'))
    if None not in (src, st2, ora) and ora != src:
        table['gap_closed'] = (st2 - src) / (ora - src)
    if 'pseudo_labels' in results:
        table['pseudo_label_coverage'] = results['pseudo_labels'].get(
            'coverage')
    return table


def format_markdown(table: dict) -> str:
    """The table in the layout of the reference tables (road ... mIoU)."""
    head = ['Method'] + list(table['classes']) + ['mIoU']
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '---|' * len(head)]
    for row in table['rows']:
        cells = ['-' if v is None else f'{v:.2f}' for v in row['IoU']]
        lines.append(f'| {row["method"]} | ' + ' | '.join(cells) +
                     f' | {row["mIoU"]:.2f} |')
    notes = []
    if table.get('gap_closed') is not None:
        notes.append('Gap closed, (stage 2 - source only) / (oracle - '
                     f'source only): {100 * table["gap_closed"]:.1f}%.')
    if table.get('pseudo_label_coverage') is not None:
        notes.append('Pseudo labels: scored on the target train split over '
                     'the pixels they keep '
                     f'({table["pseudo_label_coverage"]:.1f}% of labelled '
                     'pixels); the other rows on the evaluation split.')
    return '\n'.join(lines + [''] + notes) + '\n'


def format_console(table: dict) -> str:
    """A compact fixed-width version of the table for the terminal."""
    short = [c[:5] for c in table['classes']]
    width = max(len(r['method']) for r in table['rows'])
    lines = [' ' * width + ''.join(f'{c:>6}' for c in short) + '  mIoU']
    for row in table['rows']:
        cells = ''.join('     -' if v is None else f'{v:6.1f}'
                        for v in row['IoU'])
        lines.append(f'{row["method"]:<{width}}{cells}{row["mIoU"]:6.2f}')
    if table.get('gap_closed') is not None:
        lines.append(f'gap closed: {100 * table["gap_closed"]:.1f}%')
    return '\n'.join(lines)


def read_scalars(work_dir: str) -> Dict[str, List[tuple]]:
    """Logged training losses of a run: key -> [(iter, value)].

    Keys are those containing ``loss`` (``loss``, ``decode.loss_ce``,
    ``loss_ent_trg``, ...).
    Reads every ``<work_dir>/<timestamp>/vis_data/scalars.json`` written by
    mmengine's ``LocalVisBackend`` (several after a resume; later runs win).
    """
    series: Dict[str, Dict[int, float]] = {}
    for path in sorted(glob.glob(
            osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                it = rec.get('iter', rec.get('step'))
                for k, v in rec.items():
                    if 'loss' in k and it is not None:
                        series.setdefault(k, {})[int(it)] = float(v)
    return {k: sorted(v.items()) for k, v in series.items()}


def plot_losses(work_dirs: Dict[str, str], out_file: str) -> None:
    """One panel per training step with its loss terms against iterations."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    runs = {k: read_scalars(v) for k, v in work_dirs.items()}
    runs = {k: v for k, v in runs.items() if v}
    if not runs:
        return
    fig, axes = plt.subplots(
        1, len(runs), figsize=(4 * len(runs), 3.2), squeeze=False)
    for ax, (step, series) in zip(axes[0], runs.items()):
        for key, pts in sorted(series.items()):
            its, vals = zip(*pts)
            ax.plot(its, vals, label=key, lw=1.2)
        ax.set_title(step)
        ax.set_xlabel('iteration')
        ax.set_yscale('log')
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out_file, dpi=110)
    plt.close(fig)


def plot_bars(table: dict, out_file: str) -> None:
    """Per-class IoU bars, one colour per row of the table."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = table['rows']
    classes = table['classes']
    x = np.arange(len(classes))
    w = 0.8 / max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(14, 4))
    for i, row in enumerate(rows):
        vals = [0 if v is None else v for v in row['IoU']]
        ax.bar(x + (i - (len(rows) - 1) / 2) * w, vals, w,
               label=f'{row["method"]} ({row["mIoU"]:.1f})')
    ax.set_xticks(x)
    ax.set_xticklabels(classes, rotation=45, ha='right')
    ax.set_ylabel('IoU (%)')
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(out_file, dpi=110)
    plt.close(fig)


def _palette() -> np.ndarray:
    from mmseg.datasets import CityscapesDataset
    pal = np.zeros((256, 3), np.uint8)
    pal[:19] = np.array(CityscapesDataset.METAINFO['palette'], np.uint8)
    return pal  # 255 (ignored) stays black


def colorize(label: np.ndarray) -> np.ndarray:
    """A train-id map in the Cityscapes palette (RGB; 255 black)."""
    return _palette()[label]


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((16, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38,
                (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img], 0)


def prediction_grid(images: Sequence[str], columns: Sequence[tuple],
                    out_file: str) -> None:
    """A grid: one row per image, columns (title, function(img_path) ->
    train-id map or None) after the image itself; RGB PNG."""
    rows = []
    for path in images:
        img = cv2.imread(path)[..., ::-1]
        h, w = img.shape[:2]
        cells = [_caption(img, 'image')]
        for title, fn in columns:
            lab = fn(path)
            if lab is None:
                continue
            if lab.shape != (h, w):
                lab = cv2.resize(lab, (w, h), interpolation=cv2.INTER_NEAREST)
            cells.append(_caption(colorize(lab), title))
        rows.append(np.concatenate(cells, 1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)),
                   constant_values=255) for r in rows]
    cv2.imwrite(out_file, np.concatenate(rows, 0)[..., ::-1])


# -- the driver -------------------------------------------------------------
class Pipeline:
    """Runs the steps of a spec (see :func:`load_spec`), skipping done ones.

    Args:
        spec (dict): The pipeline spec.
        log (callable): Progress messages. Default: mmengine's logger.
    """

    def __init__(self, spec: dict, log: Logger = _log) -> None:
        self.spec = check_spec(spec)
        self.work_dir = self.spec['work_dir']
        self.log = log
        self.ran: List[str] = []
        self.skipped: List[str] = []

    # paths
    def step_dir(self, step: str) -> str:
        return osp.join(self.work_dir, step)

    @property
    def pseudo_label_dir(self) -> str:
        return osp.join(self.work_dir, 'pseudo_labels')

    def eval_file(self, key: str) -> str:
        return osp.join(self.work_dir, 'eval', key + '.json')

    def cfg(self, step: str) -> Config:
        return load_step_cfg(self.spec, step)

    def steps(self) -> List[str]:
        configs = self.spec['configs']
        out = []
        for step in STEPS:
            if step == 'data' and not self.spec.get('data'):
                continue
            if step in TRAIN_STEPS and step not in configs:
                continue
            out.append(step)
        return out

    def _output(self, step: str) -> str:
        """The file whose existence marks a step (or evaluation row) done."""
        if step in TRAIN_STEPS:
            return final_checkpoint(self.step_dir(step), self.cfg(step))
        if step == 'pseudo_labels':
            from .pseudo_labels import MANIFEST_NAME
            return osp.join(self.pseudo_label_dir, MANIFEST_NAME)
        if step == 'report':
            return osp.join(self.work_dir, 'results.json')
        raise KeyError(step)

    def _inputs(self, step: str) -> List[str]:
        """Outputs of earlier steps that a step's output is made from."""
        if step == 'pseudo_labels':
            return [self._output('stage1')]
        if step == 'stage2':
            return [self._output('pseudo_labels')] + (
                [self._output('stage1')]
                if self.spec['stage2_load_from_stage1'] else [])
        return []

    def _stale(self, output: str, inputs: Sequence[str]) -> List[str]:
        """Inputs newer than ``output`` (it was made from older ones)."""
        t = osp.getmtime(output)
        return [i for i in inputs if osp.isfile(i) and osp.getmtime(i) > t]

    def is_done(self, step: str) -> bool:
        """Whether a step's output exists and is not older than its inputs.

        Raises:
            RuntimeError: A training or pseudo-label output is older than
                what it was made from (e.g. stage 1 was retrained); those are
                never redone silently: delete the stale output.
        """
        if step == 'data':
            return self._data_done()
        if step == 'evaluate':
            return all(
                osp.isfile(self.eval_file(k)) and not self._stale(
                    self.eval_file(k), [self._output(k)])
                for k in self._rows())
        if step == 'report':
            out = self._output(step)
            return osp.isfile(out) and not self._stale(
                out, [self.eval_file(k) for k in self._rows()])
        out = self._output(step)
        if step == 'pseudo_labels':
            from .pseudo_labels import read_manifest
            m = read_manifest(self.pseudo_label_dir)
            done = bool(m and m.get('complete'))
        else:
            done = osp.isfile(out)
        stale = self._stale(out, self._inputs(step)) if done else []
        if stale:
            raise RuntimeError(
                f'{step}: {out} is older than {", ".join(stale)}, which it '
                f'is made from; delete {osp.dirname(out)} to redo {step}.')
        return done

    def run(self, *, only: Optional[Sequence[str]] = None) -> dict:
        """Run every step not yet done (or only those named); return the
        results table (see :func:`results_table`)."""
        steps = self.steps()
        if only:
            bad = sorted(set(only) - set(STEPS))
            if bad:
                raise ValueError(f'unknown steps {bad}; allowed: {STEPS}.')
            steps = [s for s in steps if s in only]
        start = time.time()
        for i, step in enumerate(steps, 1):
            head = f'[{i}/{len(steps)}] {step}'
            if self.is_done(step):
                self.log(f'{head}: done already, skipped.')
                self.skipped.append(step)
                continue
            self.log(f'{head}: running ...')
            t0 = time.time()
            getattr(self, f'_run_{step}' if step not in TRAIN_STEPS else
                    '_run_train')(step)
            self.ran.append(step)
            self.log(f'{head}: finished in {time.time() - t0:.0f} s '
                     f'(pipeline {time.time() - start:.0f} s).')
        path = osp.join(self.work_dir, 'results.json')
        if osp.isfile(path):
            with open(path) as f:
                return json.load(f)
        return {}

    # data
    def _data_done(self) -> bool:
        data = self.spec['data']
        out = data['out_dir']
        return (osp.isfile(osp.join(out, 'synthetic_stats.json'))
                and osp.isfile(osp.join(out, 'gta5', 'class_stats.json')))

    def _run_data(self, step: str) -> None:
        from mmseg_fdacl.datasets.gta5 import convert_gta5_labels
        from mmseg_fdacl.datasets.synthetic import (format_class_table,
                                                    generate_uda_data)
        data = dict(self.spec['data'])
        out = data.pop('out_dir')
        if not osp.isfile(osp.join(out, 'synthetic_stats.json')):
            self.log(f'generating the two-domain data set in {out} ...')
            stats = generate_uda_data(out, progress=True, **data)
            print()
            self.log(format_class_table(stats, 'pixel frequency per class:'))
        self.log('converting source labels to train ids '
                 '(tools/dataset_converters/gta5.py) ...')
        convert_gta5_labels(
            osp.join(out, 'gta5'), nproc=int(data.get('nproc', 1)))
        print()

    # training
    def _run_train(self, step: str) -> None:
        cfg = self.cfg(step)
        load_from = pseudo_dir = None
        if step == 'stage2':
            pseudo_dir = self.pseudo_label_dir
            if self.spec['stage2_load_from_stage1']:
                load_from = final_checkpoint(
                    self.step_dir('stage1'), self.cfg('stage1'))
        train(cfg, self.step_dir(step), load_from=load_from,
              pseudo_label_dir=pseudo_dir)

    # pseudo labels
    def _run_pseudo_labels(self, step: str) -> None:
        from .pseudo_labels import generate_pseudo_labels
        cfg = self.cfg('stage2')
        st1 = self.cfg('stage1')
        uda = cfg.train_dataloader.dataset
        target = copy.deepcopy(uda.target)
        source = copy.deepcopy(uda.source)
        kwargs = dict(self.spec['pseudo_labels'])
        generate_pseudo_labels(
            st1.model, [final_checkpoint(self.step_dir('stage1'), st1)],
            target, self.pseudo_label_dir,
            source_dataset=source,
            pipeline=st1.get('test_pipeline'),
            show_progress=True,
            **kwargs)

    # evaluation
    def _rows(self) -> List[str]:
        keys = [k for k, _ in ROWS if k in self.spec['configs']]
        keys.insert(keys.index('stage1') + 1, 'pseudo_labels')
        return keys

    def _run_evaluate(self, step: str) -> None:
        for key in self._rows():
            out = self.eval_file(key)
            if osp.isfile(out) and not self._stale(out,
                                                   [self._output(key)]):
                continue
            self.log(f'evaluating {key} ...')
            if key == 'pseudo_labels':
                uda = self.cfg('stage2').train_dataloader.dataset
                target = copy.deepcopy(uda.target)
                target.pop('pipeline', None)
                r = score_pseudo_labels(self.pseudo_label_dir, target, out)
            else:
                cfg = self.cfg(key)
                r = evaluate_model(
                    cfg, final_checkpoint(self.step_dir(key), cfg), out,
                    vis_dir=osp.join(self.work_dir, 'eval', key + '_vis'),
                    num_vis=self.spec['num_vis'])
            self.log(f'{key}: mIoU {r["mIoU"]:.2f}')

    # report
    def _run_report(self, step: str) -> None:
        results = {}
        for key in self._rows():
            with open(self.eval_file(key)) as f:
                results[key] = json.load(f)
        table = results_table(results)
        md = format_markdown(table)
        with open(osp.join(self.work_dir, 'results.md'), 'w') as f:
            f.write(md)
        self.log('\n' + format_console(table))
        plot_bars(table, osp.join(self.work_dir, 'per_class_iou.png'))
        plot_losses(
            {s: self.step_dir(s) for s in TRAIN_STEPS
             if s in self.spec['configs']},
            osp.join(self.work_dir, 'training_losses.png'))
        self._visualise()
        _write_json(osp.join(self.work_dir, 'results.json'), table)
        self.log(f'table: {osp.join(self.work_dir, "results.md")}; figures '
                 f'in {self.work_dir}')

    def _visualise(self) -> None:
        from mmseg.registry import DATASETS

        from mmseg_fdacl.utils import pseudo_label_path
        from mmseg_fdacl.visualization.fda_figure import save_fda_figure
        cfg = self.cfg('stage2')
        test = dict(copy.deepcopy(cfg.test_dataloader.dataset))
        test['pipeline'] = []
        val = DATASETS.build(test)
        n = min(self.spec['num_vis'], len(val))
        infos = [val.get_data_info(i) for i in range(n)]
        gt_of = {i['img_path']: i['seg_map_path'] for i in infos}

        def read(path):
            return None if not osp.isfile(path) else cv2.imread(
                path, cv2.IMREAD_UNCHANGED)

        def pred(key):
            def fn(img_path):
                name = osp.splitext(osp.basename(img_path))[0]
                return read(osp.join(self.work_dir, 'eval', key + '_vis',
                                     name + '.png'))
            return fn

        columns = [('ground truth', lambda p: read(gt_of[p]))]
        columns += [(label, pred(key)) for key, label in ROWS
                    if key in self.spec['configs']]
        prediction_grid([i['img_path'] for i in infos], columns,
                        osp.join(self.work_dir, 'predictions.png'))

        uda = cfg.train_dataloader.dataset
        target = dict(copy.deepcopy(uda.target))
        target['pipeline'] = []
        trg = DATASETS.build(target)
        root = trg.data_prefix.get('img_path') or trg.data_root
        tinfos = [trg.get_data_info(i) for i in range(min(n, len(trg)))]
        tgt_of = {i['img_path']: i.get('seg_map_path') for i in tinfos}
        prediction_grid(
            [i['img_path'] for i in tinfos],
            [('ground truth', lambda p: read(tgt_of[p] or '')),
             ('pseudo label (black: ignored)',
              lambda p: read(pseudo_label_path(p, root,
                                               self.pseudo_label_dir)))],
            osp.join(self.work_dir, 'pseudo_labels.png'))
        source = dict(copy.deepcopy(uda.source))
        source['pipeline'] = []
        src = DATASETS.build(source)
        save_fda_figure(
            cv2.imread(src.get_data_info(0)['img_path']),
            cv2.imread(tinfos[0]['img_path']),
            osp.join(self.work_dir, 'fda.png'))


def run_pipeline(spec: dict, *, only: Optional[Sequence[str]] = None,
                 log: Logger = _log) -> dict:
    """Run (or resume) a pipeline spec; see :class:`Pipeline`."""
    return Pipeline(spec, log=log).run(only=only)
