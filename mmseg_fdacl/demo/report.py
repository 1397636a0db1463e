"""The results table: rows in a fixed order, the gap closed, Markdown and a
compact console version."""
from typing import Dict

from .spec import ROWS


def results_table(results: Dict[str, dict]) -> dict:
    """Rows in :data:`ROWS` order plus the fraction of the gap closed.

    Args:
        results (dict): Row key -> evaluation result (``classes``, ``IoU``,
            ``mIoU``; ``coverage`` for the pseudo labels).

    Returns:
        dict: ``classes``, ``rows`` (``key``, ``method``, ``IoU``, ``mIoU``),
        ``gap_closed`` ((stage 2 - source only) / (oracle - source only), or
        None) and, with a pseudo-label row, ``pseudo_label_coverage``.
    """
    rows = []
    classes = None
    for key, label in ROWS:
        if key in results:
            r = results[key]
            classes = classes or r['classes']
            rows.append(
                dict(key=key, method=label, IoU=r['IoU'], mIoU=r['mIoU']))
    table = dict(classes=classes, rows=rows, gap_closed=None)
    src, st2, ora = (
        results.get(k, {}).get('mIoU')
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
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
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
                     f'({table["pseudo_label_coverage"]:.1f}% of labeled '
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
