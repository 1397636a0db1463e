"""Run the whole method: source-only, FDA, stage 1, pseudo labels, stage 2,
oracle, evaluation and the report, skipping the steps already done.

Examples::

    # The embedded demo (`make demo`): generates data/synthetic if missing.
    python tools/run_pipeline.py --demo

    # A pipeline spec file (see configs/fdacl/demo/pipeline.py for the keys).
    python tools/run_pipeline.py --pipeline my_pipeline.py

    # Real GTA5 -> Cityscapes, configs named one by one.
    python tools/run_pipeline.py --work-dir work_dirs/gta2cs \\
        --source-only configs/fdacl/deeplabv2_gta2cs_source-only.py \\
        --stage1 configs/fdacl/deeplabv2_gta2cs_stage1.py \\
        --stage2 configs/fdacl/deeplabv2_gta2cs_stage2.py

    # Any setting of every step's config, as tools/train.py --cfg-options.
    python tools/run_pipeline.py --demo --cfg-options train_cfg.max_iters=2

    # Show which steps are done, or rerun only some steps.
    python tools/run_pipeline.py --demo --status
    python tools/run_pipeline.py --demo --steps evaluate report

    # The stage-2 ablation rows, and every training once per seed (mean and
    # standard deviation over seeds in the table).
    python tools/run_pipeline.py --demo --ablation
    python tools/run_pipeline.py --demo --seeds 0 1 2

    # The online self-training rows (mean teacher, ClassMix, RCS, MIC,
    # FDA + CL online), from the source-only checkpoint.
    python tools/run_pipeline.py --demo --online

    # The transformer rows (small MiT + DAFormer head: source only, DAFormer
    # recipe, HRDA, MIC on HRDA), beside the others or alone.
    python tools/run_pipeline.py --demo --transformer
    python tools/run_pipeline.py --demo --transformer-only --seeds 0 1 2

A training step is done when ``<work_dir>/<step>/iter_<max_iters>.pth``
exists (an interrupted one resumes from its last checkpoint); pseudo labels
when their ``manifest.json`` is complete; evaluation when every
``<work_dir>/eval/<row>.json`` exists; the report when ``results.json``
exists. Delete a step's output to redo it. With ``--seeds`` each seed is a
pipeline in ``<work_dir>/seed_<s>/`` and ``<work_dir>/results.json`` the
aggregate (see mmseg_fdacl/demo/seeds.py).
"""
import argparse
import os
import os.path as osp
import sys
import time

from mmengine.logging import print_log

from mmengine.config import DictAction

import mmseg_fdacl  # noqa: F401  (registers the components)
from mmseg_fdacl.demo.pipeline import Pipeline
from mmseg_fdacl.demo.report import format_console
from mmseg_fdacl.demo.seeds import SeedSweep, format_console_seeds
from mmseg_fdacl.demo.spec import STEPS, check_spec, load_spec

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_SPEC = osp.join(REPO_ROOT, 'configs', 'fdacl', 'demo', 'pipeline.py')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run the FDA + contrastive-learning pipeline end to end '
        '(resumable).')
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        '--demo',
        action='store_true',
        help=f'the embedded demo ({osp.relpath(DEMO_SPEC)})')
    src.add_argument('--pipeline', help='a pipeline spec file')
    parser.add_argument('--work-dir', help='override the spec work_dir')
    for step in ('source-only', 'fda', 'stage1', 'stage2', 'oracle'):
        parser.add_argument(f'--{step}', metavar='CONFIG',
                            help=f'config of the {step} step')
    parser.add_argument(
        '--pseudo-beta',
        type=float,
        default=None,
        help='FDA beta for pseudo-label prediction (target in source style)')
    parser.add_argument(
        '--stage2-from-stage1',
        action='store_true',
        help='initialize stage 2 from the stage-1 checkpoint')
    parser.add_argument(
        '--ablation',
        action='store_true',
        help='add the stage-2 ablation rows (the spec\'s `ablation`, else '
        'the demo\'s configs/fdacl/demo/stage2_*.py)')
    parser.add_argument(
        '--online',
        action='store_true',
        help='add the online self-training rows (the spec\'s `online`, else '
        'the demo\'s configs/fdacl/demo/online_*.py)')
    parser.add_argument(
        '--transformer',
        action='store_true',
        help='add the transformer rows (the spec\'s `transformer`, else the '
        'demo\'s small MiT + DAFormer head: source only, DAFormer recipe, '
        'HRDA, MIC on HRDA; configs/fdacl/demo/*_mit.py, online_daformer.py, '
        'online_hrda.py, online_mic-hrda.py)')
    parser.add_argument(
        '--transformer-only',
        action='store_true',
        help='--transformer without the other rows (their steps are not run)')
    parser.add_argument(
        '--seeds',
        nargs='+',
        type=int,
        metavar='SEED',
        help='run every training step once per seed (in <work_dir>/seed_<s>) '
        'and report mean and standard deviation over the seeds')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        metavar='KEY=VALUE',
        help='override settings of every training step\'s config, as '
        'tools/train.py --cfg-options (after the spec\'s own cfg_options), '
        'e.g. train_dataloader.dataset.source.data_root=/datasets/gta5')
    parser.add_argument(
        '--steps', nargs='+', choices=STEPS, help='run only these steps')
    parser.add_argument(
        '--status', action='store_true', help='list the steps and exit')
    return parser.parse_args(argv)


def build_spec(args: argparse.Namespace) -> dict:
    if args.demo:
        # The demo's paths (configs, data/synthetic, work_dirs/demo) are
        # relative to the repository root.
        os.chdir(REPO_ROOT)
    if args.demo or args.pipeline:
        spec = load_spec(DEMO_SPEC if args.demo else args.pipeline)
    else:
        spec = dict(configs={}, pseudo_labels={})
    for step in ('source_only', 'fda', 'stage1', 'stage2', 'oracle'):
        path = getattr(args, step)
        if path:
            spec['configs'][step] = path
    if args.work_dir:
        spec['work_dir'] = args.work_dir
    if args.pseudo_beta is not None:
        spec['pseudo_labels']['beta'] = args.pseudo_beta
    if args.stage2_from_stage1:
        spec['stage2_load_from_stage1'] = True
    if args.ablation and not spec.get('ablation'):
        spec['ablation'] = True
    if args.online and not spec.get('online'):
        spec['online'] = True
    if (args.transformer or args.transformer_only) and not spec.get(
            'transformer'):
        spec['transformer'] = True
    if args.transformer_only:
        spec['transformer_only'] = True
    if args.seeds:
        spec['seeds'] = args.seeds
    if args.cfg_options:
        spec['common_cfg_options'] = {
            **(spec.get('common_cfg_options') or {}), **args.cfg_options}
    return check_spec(spec, args.pipeline or ('demo' if args.demo else
                                              'command line'))


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        spec = build_spec(args)
    except (ValueError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    pipe = SeedSweep(spec) if spec['seeds'] else Pipeline(spec)
    if args.status:
        width = max([14] + [len(s) for s in pipe.steps()])
        for step in pipe.steps():
            try:
                state = 'done' if pipe.is_done(step) else 'to do'
            except RuntimeError as e:
                state = f'stale: {e}'
            print(f'{step:<{width}} {state}')
        return 0
    start = time.time()
    try:
        table = pipe.run(only=args.steps)
    except RuntimeError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print_log(f'pipeline finished in {time.time() - start:.0f} s (ran: '
              f'{", ".join(pipe.ran) or "nothing"}; skipped: '
              f'{", ".join(pipe.skipped) or "nothing"}).', logger='current')
    if table:
        print(format_console_seeds(table) if table.get('seeds') else
              format_console(table))
        print(f'Markdown table and figures: {spec["work_dir"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
