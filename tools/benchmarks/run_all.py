"""Run every benchmark and write ``docs/benchmarks.md``.

Each benchmark runs as its own process (``sys.executable`` with
``OMP_NUM_THREADS=1``), exactly as the command printed above its output, and
each measures its comparisons side by side in that one run (interleaved
rounds, medians, ratios), because the machines these run on are shared and
noisy. The file records the machine, the load average before and after each
benchmark, and every command, so any figure can be reproduced.

Usage::

    python tools/benchmarks/run_all.py [--out docs/benchmarks.md]
        [--only train_iter inference ...] [--quick]

``--quick`` runs toy sizes (what the smoke test does); its figures mean
nothing and the file says so.
"""
import argparse
import os
import os.path as osp
import platform
import re
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)
from harness import load_text  # noqa: E402

# name, title, script, full arguments, quick arguments (None: skipped in
# quick mode), what it shows
BENCHMARKS = [
    ('train_iter', 'Training iteration: every mode against source-only and '
     'its floor',
     'bench_train_iter.py',
     ['--reps', '7', '--iters', '2', '--amp', 'both', '--breakdown'],
     ['--quick', '--breakdown'],
     'Every training mode built from its leaf config in `configs/fdacl/` '
     '(segmentor, switches, losses, preprocessor, optimizer wrapper, '
     "teacher EMA alpha; `tools/benchmarks/modes.py`) at the benchmark's "
     'standard size: DeepLabV2 ResNetV1c-18, 16 base channels, output '
     'stride 8, 256x512 source and target crops, batch 1, one thread, '
     'random weights, through `model.train_step`. The floor of a mode is '
     'its views with gradients in source-only iterations (stage 2: source, '
     'target and its source-stylized copy = 3.0x; checked: the gradient '
     'norm reaching each view is printed); the second floor adds one '
     'forward without gradients of the source batch (timed in the same '
     'rounds) per teacher or frozen ImageNet-backbone forward; `x floor` is '
     'the measured ratio over the second floor. The online modes carry a '
     "TeacherEMA (the leaf's alpha), its EMA update inside each timed "
     "iteration; the teacher's share is its forward plus the EMA update over "
     "the iteration. Peak MiB: one iteration's torch.profiler allocation "
     'peak plus the resident weights (student, teacher) and optimizer '
     'state. bf16: `configs/_base_/amp_bf16.py` merged into each optimizer '
     'wrapper (CPU bf16 autocast). The breakdown gives the share of a '
     'stage-2 iteration spent in FDA, the losses and data loading.'),
    ('train_iter_mit', 'Training iteration: DAFormer, HRDA and MIC(HRDA) '
     'on a small MiT against source-only on it',
     'bench_train_iter.py',
     ['--reps', '5', '--iters', '1', '--crop', '256', '256', '--batch', '2',
      '--modes', 'daformer', 'hrda', 'mic-hrda'],
     ['--quick', '--modes', 'daformer', 'hrda', 'mic-hrda'],
     'The DAFormer, HRDA and MIC(HRDA) leaves '
     '(`configs/fdacl/daformer_mit-b5_*.py`) grafted on a CPU-sized MiT '
     '(MiT-B0: embed dims 32, 2-2-2-2 blocks) with the DAFormer head at '
     'its width 256 (`tools/benchmarks/mit_network.py`), 256x256 source and '
     "target crops, batch 2 (the recipes' batch), one thread, random "
     "weights; HRDA's detail crop (half the crop's side), slide windows and "
     "MIC's mask blocks keep the leaves' ratio to the crop. Ratios are to "
     '`source-only-mit`: the same MiT student trained on the source alone '
     "with the DAFormer leaf's AdamW wrapper. An HRDA view with gradients "
     'is 0.5 source-only iterations (context at half the side and a detail '
     "crop of half the side, a quarter of the pixels each); HRDA's teacher "
     'is 2.5 forwards (context plus 9 overlapping detail windows). The '
     'real size (MiT-B5, 1024x1024) is the GPU check\'s.'),
    ('train_iter_layout', 'Training iteration: channels-last against NCHW',
     'bench_train_iter.py',
     ['--reps', '5', '--iters', '2', '--forward-views', 'separate',
      '--modes', 'stage2', 'dacs', '--channels-last', 'both'], None,
     "`UDADataPreProcessor(memory_format='channels_last')` with NHWC "
     'weights against the default layout, interleaved, fp32.'),
    ('train_iter_profile', 'Training iteration: torch.profiler tables',
     'bench_train_iter.py',
     ['--reps', '1', '--iters', '1', '--forward-views', 'separate',
      '--profile'], None,
     'Top operators by self CPU time of one iteration of every mode '
     '(fp32, separate views).'),
    ('fda', 'FDA: batched torch vs per-image numpy', 'bench_fda.py',
     ['--reps', '3'],
     ['--reps', '1', '--sizes', '32', '64', '--batches', '1', '--betas',
      '0.01'],
     'From the FDA issue: images/s of the batched torch amplitude swap '
     '(auto/dft/fft paths) against the numpy reference, max difference, '
     'peak memory.'),
    ('losses', 'Contrastive loss: time and memory', 'bench_losses.py',
     ['--reps', '5'], None,
     'From the loss issue: forward+backward time and profiler-measured peak '
     'memory of PixelContrastLoss against an all-pixels SupCon.'),
    ('pseudo_labels', 'Pseudo-label generation: 1 vs 2 processes',
     'bench_pseudo_labels.py', ['--num', '96', '--reps', '2'],
     ['--num', '2', '--size', '32', '64', '--base-channels', '4', '--reps',
      '1'],
     'generate_pseudo_labels on generated target images, one process vs two '
     'gloo processes on loopback (one thread each).'),
    ('inference', 'Inference: whole image vs sliding window',
     'bench_inference.py', ['--reps', '5'],
     ['--size', '32', '64', '--crop', '16', '32', '--stride', '11', '21',
      '--base-channels', '4', '--reps', '1'],
     '`model.test_step` images/s with `test_cfg` whole and slide.'),
]
NAMES = [b[0] for b in BENCHMARKS]
# mmengine's logger lines ("11/27 13:18:54 - mmengine - INFO - ..."): noise
# from library code (checkpoint loading), not results.
_LOG_LINE = re.compile(r'^\d\d/\d\d \d\d:\d\d:\d\d - mmengine - ')


def _cpu() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def command(script: str, args: List[str]) -> str:
    """The shell command that reproduces one benchmark."""
    return ('OMP_NUM_THREADS=1 python tools/benchmarks/' + script + ' ' +
            ' '.join(args)).strip()


def run_one(script: str, args: List[str], timeout: Optional[float]) -> tuple:
    """Run a benchmark; returns (stdout, seconds). Raises on failure."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, osp.join(HERE, script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(
            f'{command(script, args)} failed with exit code '
            f'{proc.returncode}:\n{proc.stderr[-4000:]}')
    return proc.stdout, time.perf_counter() - t0


def _markdown(stdout: str) -> str:
    """Benchmark output: tables as markdown, other text as code blocks."""
    blocks = []  # [kind, lines], kind in ('table', 'text', 'code', 'head')
    in_code = False
    for line in stdout.splitlines():
        if _LOG_LINE.match(line):
            continue
        if line.startswith('```'):
            in_code = not in_code
            if in_code:
                blocks.append(['code', []])
            continue
        if in_code:
            blocks[-1][1].append(line)
        elif line.startswith('|'):
            if not blocks or blocks[-1][0] != 'table':
                blocks.append(['table', []])
            blocks[-1][1].append(line)
        elif line.startswith('### '):
            blocks.append(['head', [line]])
        elif not line.strip():
            if blocks and blocks[-1][0] == 'text':
                blocks[-1][1].append(line)
            elif blocks and blocks[-1][0] == 'table':
                blocks.append(['gap', []])
        else:
            if not blocks or blocks[-1][0] != 'text':
                blocks.append(['text', []])
            blocks[-1][1].append(line)
    out = []
    for kind, lines in blocks:
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            continue
        body = '\n'.join(lines)
        out.append(body if kind in ('table', 'head') else
                   '```\n' + body + '\n```')
    return '\n\n'.join(out)


def _old_sections(path: str) -> Tuple[Dict[str, str], str]:
    """The sections (title -> text after its heading) of an earlier
    ``benchmarks.md`` and that file's date (``'unknown'`` without one)."""
    if not osp.isfile(path):
        return {}, 'unknown'
    with open(path) as f:
        text = f.read()
    date = re.search(r'^- (?:Date|Written): (.+)$', text, re.M)
    sections = {}
    for part in re.split(r'^## ', text, flags=re.M)[1:]:
        title, _, body = part.partition('\n')
        sections[title.strip()] = body.strip('\n')
    return sections, date.group(1).strip() if date else 'unknown'


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=osp.join(ROOT, 'docs',
                                                  'benchmarks.md'))
    parser.add_argument(
        '--only',
        nargs='+',
        choices=[b[0] for b in BENCHMARKS],
        default=None,
        help='run these benchmarks; the other sections of an existing --out '
        'file are kept as they are (each says when it ran)')
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--timeout', type=float, default=3600)
    args = parser.parse_args(argv)
    import torch
    load_start = load_text()
    old, old_date = ({}, 'unknown') if args.quick or not args.only else \
        _old_sections(args.out)
    lines = [
        '# Benchmarks', '',
        'Written by `python tools/benchmarks/run_all.py'
        + (' --quick' if args.quick else '') + '` (`make bench`); do not '
        'edit by hand. Every comparison is measured side by side in one run '
        '(interleaved rounds, medians) and given as a ratio: the machine is '
        'shared, so absolute times drift with its load (load averages are '
        'recorded), ratios much less.', ''
    ]
    if args.quick:
        lines += ['**Quick mode: toy sizes for the smoke test; these figures '
                  'mean nothing.**', '']
    lines += [
        f'- Written: {time.strftime("%Y-%m-%d %H:%M:%S %Z")} (each section '
        'says when it ran)',
        f'- Machine: {_cpu()}, {os.cpu_count()} logical CPUs, '
        f'{platform.system()} {platform.release()}',
        f'- Python {platform.python_version()}, torch {torch.__version__}',
        '- Every benchmark runs with `OMP_NUM_THREADS=1` and one torch '
        'thread per process unless it says otherwise.', ''
    ]
    for name, title, script, full, quick, what in BENCHMARKS:
        if args.only and name not in args.only:
            if title in old:
                body = old[title]
                if not body.startswith('Run: '):
                    body = f'Run: {old_date}\n\n' + body
                lines += [f'## {title}', '', body, '']
            continue
        bench_args = quick if args.quick else full
        if bench_args is None:
            continue
        cmd = command(script, bench_args)
        print(f'[run_all] {cmd}', flush=True)
        load_before = load_text()
        stdout, sec = run_one(script, bench_args, args.timeout)
        lines += [
            f'## {title}', '',
            f'Run: {time.strftime("%Y-%m-%d %H:%M:%S %Z")}', '', what, '',
            f'Command: `{cmd}`', '',
            f'Load average (1, 5, 15 min) before: {load_before}; after: '
            f'{load_text()}; wall time {sec:.0f} s.', '',
            _markdown(stdout), ''
        ]
    lines += [
        '## Closing note', '',
        f'Command: `python tools/benchmarks/run_all.py'
        + (' --quick' if args.quick else '')
        + (' --only ' + ' '.join(args.only) if args.only else '')
        + f'`; load average (1, 5, 15 min) at the start {load_start}, at the '
        f'end {load_text()}, on {os.cpu_count()} logical CPUs'
        + ('' if not args.only or args.quick else
           '; the sections of the other benchmarks are kept from earlier '
           'runs (dated above)') + '. A load above '
        'the number of CPUs means other jobs shared the cores: the ratios '
        '(interleaved, per round) hold up better than the absolute times, '
        'but no figure of a loaded run is a floor. No step-level '
        'optimisation of the segmentors has been made since these modes '
        'were first measured, so there is no before/after pair yet; '
        '[benchmarking.md](benchmarking.md) says what the profiles point '
        'at.', ''
    ]
    text = '\n'.join(lines).rstrip() + '\n'
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(text)
    print(f'[run_all] wrote {args.out}')
    return text


if __name__ == '__main__':
    main()
