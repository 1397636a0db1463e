"""Progress bars that stay readable when the output is a log file.

mmengine's :class:`~mmengine.utils.ProgressBar` redraws itself with carriage
returns, which is right for a terminal but turns a redirected log
(``make demo > log``) into thousands of ``\\r`` frames on one line. The
helpers here keep mmengine's bar when the stream is a terminal and otherwise
print a plain line every ``every_pct`` percent or every ``every_s`` seconds,
whichever comes first (and once at the end)::

    [pseudo labels] 120/500 (24%), 12.3 task/s, elapsed: 10s, ETA: 31s

:func:`track_progress` and :func:`track_parallel_progress` are mmengine's
functions of the same names with that rule.
"""
import sys
import time
from multiprocessing import Pool
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

from mmengine.utils import ProgressBar

__all__ = [
    'LineProgressBar', 'progress_bar', 'stream_is_tty', 'track_progress',
    'track_parallel_progress'
]

#: Defaults of the plain-line bar: a line every 10% or every 30 s.
EVERY_PCT = 10.0
EVERY_S = 30.0


def stream_is_tty(file: Any) -> bool:
    """Whether ``file`` is an interactive terminal (``isatty()`` is True)."""
    isatty = getattr(file, 'isatty', None)
    if not callable(isatty):
        return False
    try:
        return bool(isatty())
    except (ValueError, OSError):  # closed or detached stream
        return False


class TTYProgressBar(ProgressBar):
    """mmengine's bar plus :meth:`close` (ends the bar's line)."""

    def close(self) -> None:
        self.file.write('\n')
        self.file.flush()


class LineProgressBar:
    """A progress bar for non-terminal streams: one plain line per step.

    Same interface as mmengine's ``ProgressBar`` (``task_num``,
    ``completed``, ``file``, ``start()``, ``update(num_tasks=1)``) plus
    :meth:`close`. A line is written when the progress crosses the next
    multiple of ``every_pct`` percent, when ``every_s`` seconds have passed
    since the last line, and when the last task completes; never a ``\\r``.
    With ``task_num <= 0`` (unknown total) only the time rule applies.

    Args:
        task_num (int): Total number of tasks (0: unknown). Default: 0.
        desc (str, optional): Written in brackets at the start of each line.
        every_pct (float): Percent step between lines, in (0, 100].
            Default: 10.
        every_s (float): Most seconds between two lines (> 0; ``inf``
            disables the time rule). Default: 30.
        start (bool): Start the clock now. Default: True.
        file: Output stream. Default: ``sys.stdout`` at construction time.
    """

    def __init__(self,
                 task_num: int = 0,
                 desc: Optional[str] = None,
                 *,
                 every_pct: float = EVERY_PCT,
                 every_s: float = EVERY_S,
                 start: bool = True,
                 file: Any = None) -> None:
        if not 0 < every_pct <= 100:
            raise ValueError(f'every_pct must be in (0, 100], got '
                             f'{every_pct!r}')
        if not every_s > 0:
            raise ValueError(f'every_s must be > 0, got {every_s!r}')
        self.task_num = int(task_num)
        self.desc = desc
        self.every_pct = float(every_pct)
        self.every_s = float(every_s)
        self.file = sys.stdout if file is None else file
        self.completed = 0
        self.lines = 0
        self._start = self._last = time.monotonic()
        self._next_pct = self.every_pct
        self._done = False
        if start:
            self.start()

    def start(self) -> None:
        """(Re)start the clock; nothing is written."""
        self._start = self._last = time.monotonic()

    def _line(self, elapsed: float) -> str:
        head = f'[{self.desc}] ' if self.desc else ''
        fps = self.completed / elapsed if elapsed > 0 else float('inf')
        if self.task_num > 0:
            frac = self.completed / self.task_num
            eta = elapsed * (1 - frac) / frac if frac > 0 else 0.0
            return (f'{head}{self.completed}/{self.task_num} '
                    f'({100 * frac:.0f}%), {fps:.1f} task/s, elapsed: '
                    f'{elapsed:.0f}s, ETA: {max(eta, 0.0):.0f}s\n')
        return (f'{head}completed: {self.completed}, {fps:.1f} task/s, '
                f'elapsed: {elapsed:.0f}s\n')

    def update(self, num_tasks: int = 1) -> None:
        """Count ``num_tasks`` more finished tasks; maybe write a line."""
        assert num_tasks > 0
        self.completed += num_tasks
        now = time.monotonic()
        write = now - self._last >= self.every_s
        if self.task_num > 0:
            pct = 100.0 * self.completed / self.task_num
            if pct >= self._next_pct:
                write = True
                # Skip the steps crossed at once (a large num_tasks).
                while self._next_pct <= pct:
                    self._next_pct += self.every_pct
            if self.completed >= self.task_num and not self._done:
                write, self._done = True, True
        if write:
            self.file.write(self._line(now - self._start))
            self.file.flush()
            self.lines += 1
            self._last = now

    def close(self) -> None:
        """Nothing to end: every line is complete (mmengine-bar parity)."""
        self.file.flush()


def progress_bar(task_num: int = 0,
                 desc: Optional[str] = None,
                 *,
                 file: Any = None,
                 bar_width: int = 50,
                 every_pct: float = EVERY_PCT,
                 every_s: float = EVERY_S,
                 start: bool = True):
    """mmengine's ``ProgressBar`` on a terminal, else a :class:`LineProgressBar`.

    Args:
        task_num (int): Total number of tasks (0: unknown).
        desc (str, optional): Label of the plain lines (the terminal bar has
            none, as mmengine's).
        file: Output stream. Default: ``sys.stdout`` at call time.
        bar_width (int): Width of the terminal bar. Default: 50.
        every_pct, every_s: See :class:`LineProgressBar`.
        start (bool): Start now (see mmengine's ``ProgressBar``).

    Returns:
        An object with ``update(num_tasks=1)``, ``start()`` and ``close()``
        (ends the output: a newline after the terminal bar).
    """
    file = sys.stdout if file is None else file
    if stream_is_tty(file):
        return TTYProgressBar(task_num, bar_width, start=start, file=file)
    return LineProgressBar(
        task_num,
        desc,
        every_pct=every_pct,
        every_s=every_s,
        start=start,
        file=file)


def _tasks_and_num(tasks) -> Tuple[Iterable, int]:
    """mmengine's convention: a sequence, or ``(iterable, number)``."""
    if isinstance(tasks, tuple):
        if len(tasks) != 2 or not isinstance(tasks[1], int):
            raise TypeError('"tasks" as a tuple must be (iterable, number of '
                            f'tasks), got {tasks!r}')
        return tasks[0], tasks[1]
    if isinstance(tasks, Sequence):
        return tasks, len(tasks)
    raise TypeError('"tasks" must be a tuple object or a sequence object, '
                    f'but got {type(tasks)}')


def track_progress(func: Callable,
                   tasks,
                   desc: Optional[str] = None,
                   *,
                   file: Any = None,
                   bar_width: int = 50,
                   **kwargs) -> List[Any]:
    """``[func(t, **kwargs) for t in tasks]`` with :func:`progress_bar`.

    As ``mmengine.utils.track_progress`` (same output on a terminal).
    """
    tasks, num = _tasks_and_num(tasks)
    bar = progress_bar(num, desc, file=file, bar_width=bar_width)
    results = []
    for task in tasks:
        results.append(func(task, **kwargs))
        bar.update()
    bar.close()
    return results


def track_parallel_progress(func: Callable,
                            tasks,
                            nproc: int,
                            desc: Optional[str] = None,
                            *,
                            initializer: Optional[Callable] = None,
                            initargs: Optional[tuple] = None,
                            chunksize: int = 1,
                            keep_order: bool = True,
                            file: Any = None,
                            bar_width: int = 50) -> List[Any]:
    """``func`` over ``tasks`` in ``nproc`` processes with :func:`progress_bar`.

    As ``mmengine.utils.track_parallel_progress`` (``Pool.imap``, or
    ``imap_unordered`` with ``keep_order=False``; same output on a
    terminal).
    """
    tasks, num = _tasks_and_num(tasks)
    if initargs is not None and not isinstance(initargs, tuple):
        raise TypeError('"initargs" must be a tuple')
    args = () if initializer is None else (initializer, initargs or ())
    pool = Pool(nproc, *args)
    try:
        bar = progress_bar(num, desc, file=file, bar_width=bar_width)
        results = []
        imap = pool.imap if keep_order else pool.imap_unordered
        for result in imap(func, tasks, chunksize):
            results.append(result)
            bar.update()
        bar.close()
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
    return results
