"""The whole method as one resumable pipeline (the ``make demo`` driver).

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
4. ``stage2``: trained with those pseudo labels (optionally initialized from
   stage 1); then the ablation steps the spec has (``ablation``: pseudo-label
   CE instead of CL, no entropy, CL on the target's labels, FDA only), each
   trained like stage 2, with the pseudo labels where its target pipeline
   loads them.
   The online self-training steps the spec has (``online``: mean teacher +
   ClassMix, + rare-class sampling, + MIC masking, FDA + CL online) are
   initialized from the source-only checkpoint and need no pseudo labels.
   The transformer steps the spec has (``transformer``: the small MiT with
   the DAFormer head on the source, then DAFormer's online recipe, HRDA and
   MIC on HRDA) start from that MiT source-only checkpoint.
5. ``oracle``: trained on the target's own labels (an upper bound).
6. ``evaluate``: per-class IoU of every model on the target evaluation split
   (``Runner.test()`` with MMSeg's ``IoUMetric``), and of the pseudo labels
   on the target train split; one ``eval.json`` per row.
7. ``report``: the table (Markdown, JSON, printed), gap closed, per-class bar
   chart, training-loss curves, FDA figure, prediction and pseudo-label
   pictures in the Cityscapes palette.

Steps whose config is not given (e.g. no oracle on real Cityscapes without
the budget for it) are left out of the table. An output older than what it is
made from is stale: evaluation rows and the report are then redone; stale
pseudo labels or a stale stage 2 raise an error naming what to delete.
"""
import copy
import json
import os.path as osp
import time
from typing import Callable, List, Optional, Sequence

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.logging import print_log

from mmseg_fdacl.pseudo_labels import (MANIFEST_NAME,
                                       generate_pseudo_labels, read_manifest)
from mmseg_fdacl.datasets.file_list import build_file_list
from mmseg_fdacl.datasets.gta5 import convert_gta5_labels
from mmseg_fdacl.utils import pseudo_label_path
from mmseg_fdacl.utils.atomic_io import atomic_write
from .evaluation import (evaluate_model, score_pseudo_labels, scoring_target,
                         write_json)
from .figures import prediction_grid, save_fda_figure
from .plots import plot_bars, plot_losses
from .report import format_console, format_markdown, results_table
from .runs import train
from .stage1_binding import bind_stage1, labeling_for
from .spec import (INIT_FROM, OWN_INIT_STEPS, ROWS, STAGE2_STEPS, STEPS,
                   TRAIN_STEPS, check_spec, final_checkpoint, load_step_cfg,
                   loads_pseudo_labels)
from .synthetic import format_class_table, generate_uda_data

Logger = Callable[[str], None]


def _log(msg: str) -> None:
    print_log(msg, logger='current')


def _read_label(path: Optional[str]) -> Optional[np.ndarray]:
    """A label PNG as it is stored, or None where there is none."""
    if not path or not osp.isfile(path):
        return None
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


class Pipeline:
    """Runs the steps of a spec (see :func:`~.spec.load_spec`), skipping
    done ones.

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

    # -- paths --------------------------------------------------------------
    def step_dir(self, step: str) -> str:
        """The work dir of a training step."""
        return osp.join(self.work_dir, step)

    @property
    def pseudo_label_dir(self) -> str:
        """Where the pseudo labels (and their manifest) go."""
        return osp.join(self.work_dir, 'pseudo_labels')

    def eval_file(self, key: str) -> str:
        """The evaluation JSON of a table row."""
        return osp.join(self.work_dir, 'eval', key + '.json')

    def cfg(self, step: str) -> Config:
        """A training step's config with the spec's overrides."""
        return load_step_cfg(self.spec, step)

    def steps(self) -> List[str]:
        """The steps this spec has, in order."""
        configs = self.spec['configs']
        out = []
        for step in STEPS:
            if step == 'data' and not self.spec.get('data'):
                continue
            if step in TRAIN_STEPS and step not in configs:
                continue
            if step == 'pseudo_labels' and 'stage2' not in configs:
                continue  # transformer rows only: no stage 2 to label for
            out.append(step)
        return out

    # -- state --------------------------------------------------------------
    def _output(self, step: str) -> str:
        """The file whose existence marks a step (or evaluation row) done."""
        if step in TRAIN_STEPS:
            return final_checkpoint(self.step_dir(step), self.cfg(step))
        if step == 'pseudo_labels':
            return osp.join(self.pseudo_label_dir, MANIFEST_NAME)
        if step == 'report':
            return osp.join(self.work_dir, 'results.json')
        raise KeyError(step)

    def _inputs(self, step: str) -> List[str]:
        """Outputs of earlier steps that a step's output is made from."""
        if step == 'pseudo_labels':
            return [self._output('stage1')]
        inputs = []
        if step in INIT_FROM:
            inputs.append(self._output(INIT_FROM[step]))
        if step in STAGE2_STEPS:
            if self._reads_pseudo_labels(step):
                inputs.append(self._output('pseudo_labels'))
            if self._from_stage1(step):
                inputs.append(self._output('stage1'))
        return inputs

    def _reads_pseudo_labels(self, step: str) -> bool:
        """Whether a stage-2-like step trains with the pseudo labels: stage 2
        always (a config without ``LoadPseudoLabel`` then fails), an ablation
        step when its target pipeline loads them."""
        return step == 'stage2' or loads_pseudo_labels(self.cfg(step))

    def _from_stage1(self, step: str) -> bool:
        """Whether a stage-2-like step starts from the stage-1 checkpoint:
        with ``stage2_load_from_stage1``, unless it keeps its own
        initialization (:data:`~.spec.OWN_INIT_STEPS`)."""
        return (self.spec['stage2_load_from_stage1']
                and step not in OWN_INIT_STEPS)

    def _stale(self, output: str, inputs: Sequence[str]) -> List[str]:
        """Inputs newer than ``output`` (it was made from older ones)."""
        t = osp.getmtime(output)
        return [i for i in inputs if osp.isfile(i) and osp.getmtime(i) > t]

    def _row_done(self, key: str) -> bool:
        out = self.eval_file(key)
        return osp.isfile(out) and not self._stale(out, [self._output(key)])

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
            return all(self._row_done(k) for k in self._rows())
        if step == 'report':
            out = self._output(step)
            return osp.isfile(out) and not self._stale(
                out, [self.eval_file(k) for k in self._rows()])
        out = self._output(step)
        if step == 'pseudo_labels':
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
        """Run every step not yet done (or only those named).

        Args:
            only (Sequence[str], optional): Run only these steps.

        Returns:
            dict: The results table (see :func:`~.report.results_table`), or
            an empty dict before the report exists.
        """
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
            getattr(
                self,
                f'_run_{step}' if step not in TRAIN_STEPS else '_run_train')(
                    step)
            self.ran.append(step)
            self.log(f'{head}: finished in {time.time() - t0:.0f} s '
                     f'(pipeline {time.time() - start:.0f} s).')
        path = osp.join(self.work_dir, 'results.json')
        if osp.isfile(path):
            with open(path) as f:
                return json.load(f)
        return {}

    # -- data ---------------------------------------------------------------
    def _data_done(self) -> bool:
        out = self.spec['data']['out_dir']
        return (osp.isfile(osp.join(out, 'synthetic_stats.json'))
                and osp.isfile(osp.join(out, 'gta5', 'class_stats.json')))

    def _run_data(self, step: str) -> None:
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

    # -- training and pseudo labels -------------------------------------------
    def _run_train(self, step: str) -> None:
        cfg = self.cfg(step)
        load_from = pseudo_dir = None
        if step in STAGE2_STEPS:
            stage1 = final_checkpoint(self.step_dir('stage1'),
                                      self.cfg('stage1'))
            if self._reads_pseudo_labels(step):
                pseudo_dir = self.pseudo_label_dir
                bind_stage1(cfg, stage1, pseudo_dir,
                            dict(self.spec['pseudo_labels']))
            if self._from_stage1(step):
                load_from = stage1
        if step in INIT_FROM:
            load_from = self._output(INIT_FROM[step])
        train(
            cfg,
            self.step_dir(step),
            load_from=load_from,
            pseudo_label_dir=pseudo_dir)

    def _run_pseudo_labels(self, step: str) -> None:
        # Labeled as the stage-2 config's PseudoLabelHook would (which then
        # reuses the folder), else with the stage-1 config's model.
        st2, st1 = self.cfg('stage2'), self.cfg('stage1')
        uda = st2.train_dataloader.dataset
        model, pipeline, settings = labeling_for(
            st2, st1, dict(self.spec['pseudo_labels']))
        generate_pseudo_labels(
            model, [final_checkpoint(self.step_dir('stage1'), st1)],
            copy.deepcopy(uda.target),
            self.pseudo_label_dir,
            source_dataset=copy.deepcopy(uda.source),
            pipeline=pipeline,
            show_progress=True,
            **settings)

    # -- evaluation ---------------------------------------------------------
    def _pseudo_label_truth(self) -> Optional[dict]:
        """The target train split with ground truth (None: no such row, or
        no pseudo labels: a spec of transformer rows only)."""
        if 'stage2' not in self.spec['configs']:
            return None
        return scoring_target(
            self.cfg('stage2').train_dataloader.dataset.target)

    def _rows(self) -> List[str]:
        keys = [k for k, _ in ROWS if k in self.spec['configs']]
        if self._pseudo_label_truth() is not None:
            keys.insert(keys.index('stage1') + 1, 'pseudo_labels')
        return keys

    def _run_evaluate(self, step: str) -> None:
        for key in self._rows():
            if self._row_done(key):
                continue
            self.log(f'evaluating {key} ...')
            out = self.eval_file(key)
            if key == 'pseudo_labels':
                r = score_pseudo_labels(self.pseudo_label_dir,
                                        self._pseudo_label_truth(), out)
            else:
                cfg = self.cfg(key)
                r = evaluate_model(
                    cfg,
                    final_checkpoint(self.step_dir(key), cfg),
                    out,
                    vis_dir=self._pred_dir(key),
                    num_vis=self.spec['num_vis'])
            self.log(f'{key}: mIoU {r["mIoU"]:.2f}')

    def _pred_dir(self, key: str) -> str:
        """Where a model's first predictions go (train-id PNGs)."""
        return osp.join(self.work_dir, 'eval', key + '_vis')

    # -- report -------------------------------------------------------------
    def _run_report(self, step: str) -> None:
        results = {}
        for key in self._rows():
            with open(self.eval_file(key)) as f:
                results[key] = json.load(f)
        table = results_table(results)
        md_file = osp.join(self.work_dir, 'results.md')
        atomic_write(md_file, format_markdown(table))
        self.log('\n' + format_console(table))
        plot_bars(table, osp.join(self.work_dir, 'per_class_iou.png'))
        plot_losses(
            {
                s: self.step_dir(s)
                for s in TRAIN_STEPS if s in self.spec['configs']
            }, osp.join(self.work_dir, 'training_losses.png'))
        self._draw_figures()
        write_json(osp.join(self.work_dir, 'results.json'), table)
        self.log(f'table: {md_file}; figures in {self.work_dir}')

    def _draw_figures(self) -> None:
        """``predictions.png``, ``pseudo_labels.png`` and ``fda.png``."""
        keys = [k for k, _ in ROWS if k in self.spec['configs']]
        cfg = self.cfg('stage2' if 'stage2' in keys else keys[0])
        val = build_file_list(cfg.test_dataloader.dataset)
        n = min(self.spec['num_vis'], len(val))
        infos = [val.get_data_info(i) for i in range(n)]
        gt_of = {i['img_path']: i['seg_map_path'] for i in infos}

        def prediction_of(key: str) -> Callable[[str], Optional[np.ndarray]]:

            def read(img_path: str) -> Optional[np.ndarray]:
                name = osp.splitext(osp.basename(img_path))[0]
                return _read_label(
                    osp.join(self._pred_dir(key), name + '.png'))

            return read

        columns = [('ground truth', lambda p: _read_label(gt_of[p]))]
        columns += [(label, prediction_of(key)) for key, label in ROWS
                    if key in self.spec['configs']]
        prediction_grid([i['img_path'] for i in infos], columns,
                        osp.join(self.work_dir, 'predictions.png'))
        if 'stage2' not in keys:
            return  # no pseudo labels, no FDA step to picture

        uda = cfg.train_dataloader.dataset
        trg = build_file_list(uda.target)
        root = trg.data_prefix.get('img_path') or trg.data_root
        tinfos = [trg.get_data_info(i) for i in range(min(n, len(trg)))]
        tgt_of = {i['img_path']: i.get('seg_map_path') for i in tinfos}
        prediction_grid(
            [i['img_path'] for i in tinfos],
            [('ground truth', lambda p: _read_label(tgt_of[p])),
             ('pseudo label (black: ignored)', lambda p: _read_label(
                 pseudo_label_path(p, root, self.pseudo_label_dir)))],
            osp.join(self.work_dir, 'pseudo_labels.png'))
        src = build_file_list(uda.source)
        save_fda_figure(
            cv2.imread(src.get_data_info(0)['img_path']),
            cv2.imread(tinfos[0]['img_path']),
            osp.join(self.work_dir, 'fda.png'))


def run_pipeline(spec: dict,
                 *,
                 only: Optional[Sequence[str]] = None,
                 log: Logger = _log) -> dict:
    """Run (or resume) a pipeline spec; see :class:`Pipeline`."""
    return Pipeline(spec, log=log).run(only=only)
