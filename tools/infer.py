"""Run a trained model on an image, a folder of images or a video.

Usage::

    python tools/infer.py CONFIG CHECKPOINT INPUT --out DIR
        [--weights {student,teacher}] [--slide H W [--stride H W]]
        [--batch-size N] [--opacity 0.5] [--no-overlays] [--device cpu]
        [--cfg-options k=v ...]

INPUT is an image, a folder (searched recursively) or a video (.mp4, .avi,
.mov, .mkv, .webm). Writes ``DIR/labels/<name>.png`` (uint8 class ids) and
``DIR/vis/<name>.png`` (the prediction over the image); for a video
``DIR/vis/<video>.mp4`` and ``DIR/labels/<video>/<frame>.png``.
``--weights teacher`` uses the mean teacher of an online recipe (DACS, MIC,
...); ``--slide`` predicts large images window by window. The library is
:mod:`mmseg_fdacl.apis.inference`; see docs/inference.md.
"""
import argparse
import os.path as osp
import sys
import time

from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg_fdacl.apis import UDASegInferencer, infer  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Predict an image, a folder or a video with a trained '
        'checkpoint; writes label PNGs and overlays.')
    parser.add_argument('config', help='the training (or test) config')
    parser.add_argument('checkpoint', help='a checkpoint of tools/train.py')
    parser.add_argument('input', help='image, folder or video')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--weights', choices=('student', 'teacher'),
                        default='student',
                        help='student (default) or the mean teacher of an '
                        'online recipe')
    parser.add_argument('--slide', type=int, nargs=2, default=None,
                        metavar=('H', 'W'),
                        help='sliding-window inference with H x W windows')
    parser.add_argument('--stride', type=int, nargs=2, default=None,
                        metavar=('H', 'W'),
                        help='window stride (default 2/3 of --slide)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='overlay opacity in [0, 1] (default 0.5)')
    parser.add_argument('--no-overlays', action='store_true',
                        help='write the label PNGs only (images, folders)')
    parser.add_argument('--device', default=None,
                        help='e.g. cuda:0 or cpu (default: CUDA if present)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.stride is not None and args.slide is None:
        raise SystemExit('error: --stride needs --slide')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    start = time.time()
    try:
        inferencer = UDASegInferencer(
            cfg, args.checkpoint, weights=args.weights,
            slide=None if args.slide is None else tuple(args.slide),
            stride=None if args.stride is None else tuple(args.stride),
            device=args.device)
        result = infer(inferencer, args.input, args.out,
                       batch_size=args.batch_size, opacity=args.opacity,
                       write_overlays=not args.no_overlays)
    except (FileNotFoundError, KeyError, ValueError, OSError) as err:
        raise SystemExit(f'error: {err}')
    what = 'frames' if result['kind'] == 'video' else 'images'
    print(f'{result["count"]} {what} in {time.time() - start:.1f} s '
          f'({args.weights} weights): labels in {result["labels"]}, '
          f'overlays in {result.get("video") or result.get("vis")}')


if __name__ == '__main__':
    main()
