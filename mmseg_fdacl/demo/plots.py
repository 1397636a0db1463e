"""Report plots (matplotlib, Agg): per-class IoU bars and training losses."""
import glob
import json
import os.path as osp
from typing import Dict, List

import numpy as np


def _pyplot():
    """``matplotlib.pyplot`` on the file-only Agg backend."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def read_scalars(work_dir: str) -> Dict[str, List[tuple]]:
    """Logged training losses of a run: key -> [(iter, value)].

    Keys are those containing ``loss`` (``loss``, ``decode.loss_ce``,
    ``loss_ent_trg``, ...).
    Reads every ``<work_dir>/<timestamp>/vis_data/scalars.json`` written by
    mmengine's ``LocalVisBackend`` (several after a resume; later runs win).
    """
    series: Dict[str, Dict[int, float]] = {}
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
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
    plt = _pyplot()
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


def _bar_label(row: dict) -> str:
    """Legend entry: the method and its mIoU (``mean ± std`` over seeds)."""
    std = row.get('mIoU_std')
    if std is None:
        return f'{row["method"]} ({row["mIoU"]:.1f})'
    return f'{row["method"]} ({row["mIoU"]:.1f} ± {std:.1f})'


def plot_bars(table: dict, out_file: str) -> None:
    """Per-class IoU bars, one color per row of the table.

    Rows with ``IoU_std`` (a table aggregated over seeds, see
    :func:`mmseg_fdacl.demo.seeds.aggregate_tables`) get error bars of one
    standard deviation.

    Args:
        table (dict): A results table (``classes``, ``rows``).
        out_file (str): The PNG written.
    """
    plt = _pyplot()
    rows = table['rows']
    classes = table['classes']
    x = np.arange(len(classes))
    w = 0.8 / max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(14, 4))
    for i, row in enumerate(rows):
        vals = [0 if v is None else v for v in row['IoU']]
        kwargs = {}
        if row.get('IoU_std') is not None:
            kwargs = dict(
                yerr=[0 if v is None else v for v in row['IoU_std']],
                capsize=1.5,
                error_kw=dict(elinewidth=0.6))
        ax.bar(
            x + (i - (len(rows) - 1) / 2) * w,
            vals,
            w,
            label=_bar_label(row),
            **kwargs)
    ax.set_xticks(x)
    ax.set_xticklabels(classes, rotation=45, ha='right')
    ax.set_ylabel('IoU (%)')
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(out_file, dpi=110)
    plt.close(fig)
