"""Label the target training set with one or an ensemble of checkpoints.

    python tools/generate_pseudo_labels.py CONFIG CKPT [CKPT ...] --out DIR \
        [--beta B | --no-fda] [--reference IMG] [--seed S] [--percentile P] \
        [--cap C] [--threshold T] [--num-bins N] [--grayscale] \
        [--selection {fda,cbst}] [--portion F] \
        [--show-dir D] [--launcher pytorch] [--cfg-options k=v ...]

CONFIG is a UDA config (stage 1 or 2): its ``train_dataloader.dataset`` names
the target (and source) set, ``model`` the network, ``test_pipeline`` the
inference pipeline (LoadAnnotations is dropped). Several checkpoints are
ensembled (mean softmax, FDA-MBT). Writes one uint8 PNG of train ids per
target image (255 = ignored) plus ``manifest.json`` into DIR; see
``mmseg_fdacl/pseudo_labels/`` for thresholds, resumption and reuse.
When the target has ground truth (Cityscapes ``gtFine/train``), prints the
per-class IoU and mIoU of the labeled pseudo-label pixels, their coverage
(per class too), and the IoU over every ground-truth pixel (ignored = miss).
``--selection cbst --portion F`` selects class-balanced labels (CBST) instead
of FDA's thresholds. Several processes: ``torchrun --nproc_per_node N
tools/generate_pseudo_labels.py ... --launcher pytorch`` (gloo on CPU).
"""
import argparse
import os
import os.path as osp
import sys
import time

from mmengine.config import Config, DictAction
from mmengine.dist import barrier, get_dist_info
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg_fdacl.pseudo_labels import (  # noqa: E402
    datasets_from_config, evaluate_pseudo_labels, generate_pseudo_labels,
    inference_pipeline_from_cfg, visualize_pseudo_labels)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate FDA-style pseudo labels for the target set.')
    parser.add_argument('config', help='UDA config (stage 1 or 2)')
    parser.add_argument('checkpoints', nargs='+', help='checkpoint file(s); '
                        'several are ensembled (mean softmax)')
    parser.add_argument('--out', required=True, help='output folder')
    fda = parser.add_mutually_exclusive_group()
    fda.add_argument('--beta', type=float, default=0.01,
                     help='FDA target->source beta in [0, 0.5] (default '
                     '0.01)')
    fda.add_argument('--no-fda', action='store_true',
                     help='predict on the raw target images')
    parser.add_argument('--reference', default=None,
                        help='a fixed source image as FDA reference (default:'
                        ' a seeded random source image per target image)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the reference draw')
    parser.add_argument('--percentile', type=float, default=0.66,
                        help='per-class threshold percentile, a fraction')
    parser.add_argument('--cap', type=float, default=0.9,
                        help='cap of the per-class thresholds')
    parser.add_argument('--threshold', type=float, default=None,
                        help='one global threshold instead of per-class ones')
    parser.add_argument('--num-bins', type=int, default=1000,
                        help='confidence histogram bins')
    parser.add_argument('--selection', choices=['fda', 'cbst'],
                        default='fda',
                        help="'fda': FDA's capped per-class percentile "
                        "thresholds (default); 'cbst': class-balanced "
                        'selection (CBST), argmax of p_c / k_c kept where it '
                        'is >= 1 (--percentile and --cap do not apply)')
    parser.add_argument('--portion', type=float, default=0.2,
                        help='with --selection cbst: share of each class\'s '
                        'predicted pixels that k_c keeps, in (0, 1] '
                        '(default 0.2)')
    parser.add_argument('--grayscale', action='store_true',
                        help='predict on grayscale images')
    parser.add_argument('--show-dir', default=None,
                        help='write image | ground truth | pseudo label '
                        'pictures here')
    parser.add_argument('--device', default=None,
                        help='default: cuda:<local rank> if available, else '
                        'cpu')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'],
                        default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def init_distributed(launcher: str) -> None:
    """torch.distributed for the launcher: NCCL on GPUs, gloo on CPU."""
    if launcher == 'none':
        return
    import torch
    if torch.cuda.is_available():
        from mmengine.dist import init_dist
        init_dist(launcher)
    else:
        # mmengine's init_dist calls torch.cuda.set_device (fails on CPU).
        from mmseg_fdacl.utils.dist import init_cpu_process_group
        init_cpu_process_group(launcher)


def _fmt(value: float) -> str:
    return 'nan' if value != value else f'{value:.2f}'


def format_iou_table(result: dict) -> str:
    """Per-class table (IoU on labeled pixels, coverage, IoU on every
    ground-truth pixel) and the reference-style row."""
    from prettytable import PrettyTable
    table = PrettyTable()
    table.field_names = ['Class', 'IoU', 'coverage %', 'IoU all pixels']
    for name, iou, cov, iou_all in zip(result['classes'], result['iou'],
                                       result['class_coverage'],
                                       result['iou_all']):
        table.add_row([name, _fmt(iou), _fmt(cov), _fmt(iou_all)])
    row = ' | '.join(_fmt(v) for v in result['iou'])
    return (f'{table.get_string()}\n'
            f"mIoU {result['miou']:.2f} on labeled pixels of "
            f"{result['num_images']} images with ground truth; coverage "
            f"{result['coverage']:.2f}% of ground-truth pixels labeled; "
            f"mIoU {result['miou_all']:.2f} over every ground-truth pixel "
            '(ignored = miss)\n'
            f"| Pseudo Labels | {row} | {result['miou']:.2f} |")


def main(argv=None) -> dict:
    args = parse_args(argv)
    init_distributed(args.launcher)
    rank, world_size = get_dist_info()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    target, source = datasets_from_config(cfg)
    device = args.device
    if device is None:
        import torch
        device = (f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
                  if torch.cuda.is_available() else 'cpu')

    start = time.perf_counter()
    manifest = generate_pseudo_labels(
        cfg.model,
        args.checkpoints,
        target,
        args.out,
        source_dataset=source,
        pipeline=inference_pipeline_from_cfg(
            cfg.get('pseudo_label_pipeline', cfg.get('test_pipeline'))),
        beta=None if args.no_fda else args.beta,
        reference=args.reference,
        seed=args.seed,
        grayscale=args.grayscale,
        percentile=args.percentile,
        cap=args.cap,
        threshold=args.threshold,
        num_bins=args.num_bins,
        selection=args.selection,
        portion=args.portion,
        device=device,
        show_progress=True)
    seconds = time.perf_counter() - start
    if rank == 0:
        print(f"pseudo labels: {manifest['num_images']} images in "
              f'{seconds:.1f} s with {world_size} process(es) '
              f"({manifest['num_images'] / seconds:.2f} images/s, both passes"
              ' and any reuse included) -> '
              f"{osp.join(args.out, 'manifest.json')}")
        thr = ', '.join(f'{t:.3f}' for t in manifest['thresholds'])
        what = ('class normalizers k_c' if args.selection == 'cbst' else
                'thresholds')
        print(f'{what}: [{thr}]')
    if args.show_dir:
        n = visualize_pseudo_labels(
            args.out, target, args.show_dir,
            indices=range(rank, manifest['num_images'], world_size))
        barrier()
        if rank == 0:
            print(f'pictures (image | ground truth | pseudo label): '
                  f'{args.show_dir} ({n} from rank 0)')
    if rank == 0:
        result = evaluate_pseudo_labels(args.out, target)
        if result is None:
            print('no target ground truth found: IoU not computed.')
        else:
            print(format_iou_table(result))
    return manifest


if __name__ == '__main__':
    main()
