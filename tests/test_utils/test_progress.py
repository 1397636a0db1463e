"""Progress output: mmengine's bar on a terminal, plain lines in a log."""
import io

import pytest
from mmengine.utils import ProgressBar

from mmseg_fdacl.utils import progress as prog


class FakeTTY(io.StringIO):

    def isatty(self) -> bool:
        return True


def _square(x):
    return x * x


def test_non_tty_stream_gets_bounded_plain_lines():
    out = io.StringIO()
    bar = prog.progress_bar(500, 'pseudo labels', file=out)
    assert isinstance(bar, prog.LineProgressBar)
    for _ in range(500):
        bar.update()
    bar.close()
    text = out.getvalue()
    assert '\r' not in text
    lines = text.splitlines()
    # One line per 10% (the time rule cannot fire in a fast loop).
    assert len(lines) == 10 == bar.lines
    assert lines[0].startswith('[pseudo labels] 50/500 (10%), ')
    assert 'task/s' in lines[0] and 'ETA: ' in lines[0]
    assert lines[-1].startswith('[pseudo labels] 500/500 (100%), ')
    assert text.endswith('\n')


def test_line_bar_steps_time_rule_and_unknown_total(monkeypatch):
    out = io.StringIO()
    bar = prog.LineProgressBar(7, every_pct=25, file=out)
    for _ in range(7):
        bar.update()
    # 25, 50, 75, 100% of 7 tasks: after tasks 2, 4, 6 and 7.
    assert [ln.split(' ')[0] for ln in out.getvalue().splitlines()] == [
        '2/7', '4/7', '6/7', '7/7'
    ]
    out = io.StringIO()
    bar = prog.LineProgressBar(1000, file=out)
    bar.update(1000)  # one big step crosses every threshold: one line
    assert out.getvalue().count('\n') == 1

    clock = [0.0]
    monkeypatch.setattr(prog.time, 'monotonic', lambda: clock[0])
    out = io.StringIO()
    bar = prog.LineProgressBar(0, 'gen', every_s=5, file=out)
    for _ in range(20):
        clock[0] += 1.0
        bar.update()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and '\r' not in out.getvalue()
    assert lines[0] == '[gen] completed: 5, 1.0 task/s, elapsed: 5s'
    with pytest.raises(ValueError, match='every_pct'):
        prog.LineProgressBar(3, every_pct=0, file=out)


def test_tty_stream_gets_mmengine_bar():
    tty = FakeTTY()
    bar = prog.progress_bar(5, 'x', file=tty)
    assert isinstance(bar, ProgressBar)
    for _ in range(5):
        bar.update()
    bar.close()
    text = tty.getvalue()
    assert text.count('\r') == 5 and '5/5' in text and text.endswith('\n')
    assert '[x]' not in text  # mmengine's own format


def test_stream_is_tty_handles_odd_streams():

    class Closed(io.StringIO):

        def isatty(self):
            raise ValueError('I/O operation on closed file')

    assert not prog.stream_is_tty(object())
    assert not prog.stream_is_tty(Closed())
    assert not prog.stream_is_tty(io.StringIO())
    assert prog.stream_is_tty(FakeTTY())


def test_default_stream_is_sys_stdout_at_call_time(capsys):
    bar = prog.progress_bar(2, 'eval')
    bar.update()
    bar.update()
    out = capsys.readouterr().out
    assert out.splitlines() == [ln for ln in out.splitlines() if ln]
    assert '[eval] 2/2 (100%)' in out and '\r' not in out


@pytest.mark.parametrize('tty', [False, True])
def test_track_helpers_same_rule(tty):
    out = FakeTTY() if tty else io.StringIO()
    tasks = list(range(40))
    assert prog.track_progress(_square, tasks, 'serial',
                               file=out) == [x * x for x in tasks]
    assert prog.track_parallel_progress(
        _square, tasks, 2, 'parallel', file=out) == [x * x for x in tasks]
    assert sorted(
        prog.track_parallel_progress(
            _square, (iter(tasks), len(tasks)), 2, file=out,
            keep_order=False)) == [x * x for x in tasks]
    text = out.getvalue()
    if tty:
        assert text.count('\r') == 3 * 40
    else:
        assert '\r' not in text
        assert len(text.splitlines()) == 3 * 10
        assert '[parallel] 40/40 (100%)' in text
    with pytest.raises(TypeError, match='tasks'):
        prog.track_progress(_square, iter(tasks), file=out)
