"""One pipeline spec run once per seed, and the table aggregated over seeds.

With ``seeds`` in the spec (``tools/run_pipeline.py --seeds 0 1 2``) every
training step runs once per seed, each seed a whole pipeline in
``<work_dir>/seed_<s>/`` (its own pseudo labels, evaluation and report, laid
out as a one-seed run); the data are generated once. The seed goes to every
seeded draw: ``randomness.seed`` and every other ``seed`` key of each
training config (the ``UDADataset`` pairing seed), and the pseudo-label
reference draw (``pseudo_labels.seed``); the data's own seed is kept.

``<work_dir>/results.json``, ``results.md`` and ``per_class_iou.png`` then
hold the mean and the sample standard deviation (``n - 1`` denominator) over
the seeds of every per-class IoU, mIoU, the gap closed and the pseudo-label
coverage, plus each seed's table.
"""
import copy
import json
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.logging import print_log

from mmseg_fdacl.utils.atomic_io import atomic_write
from .evaluation import write_json
from .pipeline import Logger, Pipeline
from .plots import plot_bars
from .spec import check_spec, load_step_cfg

SEED_DIR = 'seed_{seed}'
# The per-seed values aggregated besides the rows.
_SCALARS = ('gap_closed', 'pseudo_label_coverage')


def _log(msg: str) -> None:
    print_log(msg, logger='current')


def seed_work_dir(work_dir: str, seed: int) -> str:
    """The work dir of one seed, ``<work_dir>/seed_<seed>``."""
    return osp.join(work_dir, SEED_DIR.format(seed=seed))


def seed_options(cfg: Config, seed: int) -> Dict[str, int]:
    """``cfg_options`` that set every seed of a training config.

    Args:
        cfg (Config): The training config.
        seed (int): The seed.

    Returns:
        dict: Dotted key -> ``seed``: ``randomness.seed`` and every key named
        ``seed`` (an int or None) anywhere in the config, list items
        included (e.g. ``train_dataloader.dataset.seed`` of ``UDADataset``).
    """
    keys = {'randomness.seed'}

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, (list, tuple)):
            items = enumerate(node)
        else:
            return
        for k, v in items:
            path = f'{where}.{k}' if where else str(k)
            if k == 'seed' and (v is None or (isinstance(v, int)
                                              and not isinstance(v, bool))):
                keys.add(path)
            else:
                walk(v, path)

    walk(cfg.to_dict(), '')
    return {k: seed for k in sorted(keys)}


def seed_spec(spec: dict, seed: int) -> dict:
    """The spec of one seed's pipeline.

    Args:
        spec (dict): The checked spec (with ``seeds``; not changed).
        seed (int): The seed.

    Returns:
        dict: ``work_dir`` ``<work_dir>/seed_<seed>``, no ``data`` step (the
        sweep makes the data once), :func:`seed_options` added to each
        step's ``cfg_options``, ``pseudo_labels.seed`` set.
    """
    out = copy.deepcopy(spec)
    out['work_dir'] = seed_work_dir(spec['work_dir'], seed)
    out.pop('data', None)
    out['seeds'] = None
    for step in out['configs']:
        opts = dict(out['cfg_options'].get(step) or {})
        opts.update(seed_options(load_step_cfg(spec, step), seed))
        out['cfg_options'][step] = opts
    out['pseudo_labels'] = dict(out['pseudo_labels'], seed=seed)
    return out


def mean_std(
    values: Sequence[Optional[float]]
) -> Tuple[Optional[float], Optional[float]]:
    """Mean and sample standard deviation of the values that are not None.

    Returns:
        tuple: ``(mean, std)``; the mean is None without a value, the
        standard deviation (``n - 1`` denominator) without two.
    """
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None, None
    return (statistics.mean(vals),
            statistics.stdev(vals) if len(vals) > 1 else None)


def _aggregate_row(per_seed: List[dict], num_classes: int) -> dict:
    """One row's mean and standard deviation over its per-seed rows."""
    iou = [
        mean_std([r['IoU'][c] for r in per_seed]) for c in range(num_classes)
    ]
    miou, miou_std = mean_std([r['mIoU'] for r in per_seed])
    return dict(
        key=per_seed[0]['key'],
        method=per_seed[0]['method'],
        IoU=[m for m, _ in iou],
        IoU_std=[s for _, s in iou],
        mIoU=miou,
        mIoU_std=miou_std,
        mIoU_per_seed=[r['mIoU'] for r in per_seed])


def aggregate_tables(tables: Dict[int, dict]) -> dict:
    """The results table over seeds (see :func:`~.report.results_table`).

    Args:
        tables (dict): Seed -> that seed's results table (the same rows and
            classes in each).

    Returns:
        dict: ``seeds``, ``classes``, ``rows`` (``key``, ``method``, ``IoU``
        and ``mIoU`` the means over seeds, ``IoU_std`` and ``mIoU_std`` the
        sample standard deviations, ``mIoU_per_seed``), ``gap_closed`` and
        ``gap_closed_std`` (over the seeds' gaps closed), the same for
        ``pseudo_label_coverage`` when there is a pseudo-label row, and
        ``per_seed`` (str(seed) -> that seed's table).

    Raises:
        ValueError: No tables, or tables with different rows or classes.
    """
    if not tables:
        raise ValueError('aggregate_tables: no tables.')
    seeds = list(tables)
    first = tables[seeds[0]]
    keys = [r['key'] for r in first['rows']]
    for s in seeds:
        t = tables[s]
        if [r['key'] for r in t['rows']] != keys or (t['classes']
                                                     != first['classes']):
            raise ValueError(
                f'aggregate_tables: seed {s} has other rows or classes than '
                f'seed {seeds[0]}.')
    rows = [
        _aggregate_row([tables[s]['rows'][i] for s in seeds],
                       len(first['classes'])) for i in range(len(keys))
    ]
    table = dict(seeds=seeds, classes=first['classes'], rows=rows)
    for name in _SCALARS:
        if any(name in t for t in tables.values()):
            table[name], table[name + '_std'] = mean_std(
                [t.get(name) for t in tables.values()])
    table['per_seed'] = {str(s): tables[s] for s in seeds}
    return table


def _pm(mean: Optional[float], std: Optional[float], fmt: str = '.2f') -> str:
    """``mean ± std`` (just the mean without a std, ``-`` without either)."""
    if mean is None:
        return '-'
    return (f'{mean:{fmt}}' if std is None else f'{mean:{fmt}} ± {std:{fmt}}')


def _gap(table: dict) -> str:
    """The gap closed over seeds in %, ``mean ± std``."""
    std = table.get('gap_closed_std')
    return _pm(100 * table['gap_closed'], None if std is None else 100 * std,
               '.1f')


def format_markdown_seeds(table: dict) -> str:
    """The aggregated table in the layout of
    :func:`~.report.format_markdown`, each cell ``mean ± std``."""
    head = ['Method'] + list(table['classes']) + ['mIoU']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for row in table['rows']:
        cells = [_pm(m, s) for m, s in zip(row['IoU'], row['IoU_std'])]
        lines.append(f'| {row["method"]} | ' + ' | '.join(cells) +
                     f' | {_pm(row["mIoU"], row["mIoU_std"])} |')
    seeds = ', '.join(str(s) for s in table['seeds'])
    notes = [
        f'Mean ± sample standard deviation (n - 1) over seeds {seeds}; '
        'a cell without ± has a value in one seed only; each seed\'s '
        'table is in seed_<s>/results.md.'
    ]
    if table.get('gap_closed') is not None:
        notes.append('Gap closed, (stage 2 - source only) / (oracle - '
                     f'source only), per seed: {_gap(table)}%.')
    cov = table.get('pseudo_label_coverage')
    if cov is not None:
        notes.append(
            'Pseudo labels: scored on the target train split over the pixels '
            'they keep '
            f'({_pm(cov, table.get("pseudo_label_coverage_std"), ".1f")}% '
            'of labeled pixels); the other rows on the evaluation split.')
    return '\n'.join(lines + [''] + notes) + '\n'


def format_console_seeds(table: dict) -> str:
    """A compact fixed-width version of the aggregated table: the per-class
    means, then mIoU and its standard deviation."""
    short = [c[:5] for c in table['classes']]
    width = max(len(r['method']) for r in table['rows'])
    lines = [' ' * width + ''.join(f'{c:>6}' for c in short) + '  mIoU   std']
    for row in table['rows']:
        cells = ''.join('     -' if v is None else f'{v:6.1f}'
                        for v in row['IoU'])
        std = row['mIoU_std']
        lines.append(f'{row["method"]:<{width}}{cells}{row["mIoU"]:6.2f}' +
                     ('     -' if std is None else f'{std:6.2f}'))
    lines.append('seeds: ' + ', '.join(str(s) for s in table['seeds']))
    if table.get('gap_closed') is not None:
        lines.append(f'gap closed: {_gap(table)}%')
    return '\n'.join(lines)


class SeedSweep:
    """Runs a spec once per seed (:func:`seed_spec`), then aggregates.

    The interface of :class:`~.pipeline.Pipeline` (``steps``, ``is_done``,
    ``run``, ``ran``, ``skipped``); step names are ``data``,
    ``seed_<s>/<step>`` and ``aggregate``.

    Args:
        spec (dict): The pipeline spec, with ``seeds``.
        log (callable): Progress messages. Default: mmengine's logger.

    Raises:
        ValueError: The spec has no ``seeds``.
    """

    def __init__(self, spec: dict, log: Logger = _log) -> None:
        self.spec = check_spec(spec)
        if not self.spec['seeds']:
            raise ValueError('SeedSweep: the spec has no `seeds`.')
        self.work_dir = self.spec['work_dir']
        self.log = log
        self.pipelines = {
            s: Pipeline(seed_spec(self.spec, s), log=log)
            for s in self.spec['seeds']
        }
        self.ran: List[str] = []
        self.skipped: List[str] = []

    @property
    def results_file(self) -> str:
        """The aggregated ``results.json``."""
        return osp.join(self.work_dir, 'results.json')

    def _seed_results(self) -> Dict[int, str]:
        return {
            s: osp.join(p.work_dir, 'results.json')
            for s, p in self.pipelines.items()
        }

    def steps(self) -> List[str]:
        """Every step of every seed, in the order they run."""
        out = ['data'] if self.spec.get('data') else []
        for s, p in self.pipelines.items():
            out += [f'{SEED_DIR.format(seed=s)}/{step}' for step in p.steps()]
        return out + ['aggregate']

    def is_done(self, step: str) -> bool:
        """Whether a step (a name from :meth:`steps`) is done; see
        :meth:`Pipeline.is_done` (it raises on stale outputs)."""
        if step == 'data':
            return Pipeline(self.spec, log=self.log).is_done('data')
        if step == 'aggregate':
            if not osp.isfile(self.results_file):
                return False
            # An aggregate of other seeds (e.g. written by a run of one of
            # them) is redone for these.
            with open(self.results_file) as f:
                if json.load(f).get('seeds') != list(self.spec['seeds']):
                    return False
            t = osp.getmtime(self.results_file)
            return all(
                osp.isfile(f) and osp.getmtime(f) <= t
                for f in self._seed_results().values())
        head, sub = step.split('/', 1)
        for s, p in self.pipelines.items():
            if head == SEED_DIR.format(seed=s):
                return p.is_done(sub)
        raise KeyError(step)

    def run(self, *, only: Optional[Sequence[str]] = None) -> dict:
        """Make the data once, run each seed's pipeline, then aggregate.

        Args:
            only (Sequence[str], optional): Run only these steps (names of
                :data:`~.spec.STEPS`, in every seed); ``report`` includes
                the aggregate.

        Returns:
            dict: The aggregated table (see :func:`aggregate_tables`), or an
            empty dict before it exists.
        """
        if self.spec.get('data') and (not only or 'data' in only):
            data = Pipeline(self.spec, log=self.log)
            data.run(only=['data'])
            self.ran += data.ran
            self.skipped += data.skipped
        for s, p in self.pipelines.items():
            self.log(f'seed {s} ({p.work_dir}) ...')
            p.run(only=only)
            name = SEED_DIR.format(seed=s)
            self.ran += [f'{name}/{step}' for step in p.ran]
            self.skipped += [f'{name}/{step}' for step in p.skipped]
        if not only or 'report' in only:
            if self.is_done('aggregate'):
                self.skipped.append('aggregate')
            elif all(osp.isfile(f) for f in self._seed_results().values()):
                self._aggregate()
                self.ran.append('aggregate')
        if osp.isfile(self.results_file):
            with open(self.results_file) as f:
                return json.load(f)
        return {}

    def _aggregate(self) -> None:
        """``results.json``, ``results.md`` and ``per_class_iou.png`` over
        the seeds."""
        tables = {}
        for s, path in self._seed_results().items():
            with open(path) as f:
                tables[s] = json.load(f)
        table = aggregate_tables(tables)
        md_file = osp.join(self.work_dir, 'results.md')
        atomic_write(md_file, format_markdown_seeds(table))
        self.log('\n' + format_console_seeds(table))
        plot_bars(table, osp.join(self.work_dir, 'per_class_iou.png'))
        write_json(self.results_file, table)
        self.log(f'table over seeds: {md_file}')
