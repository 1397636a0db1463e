"""Convert a released DAFormer / HRDA / MIC checkpoint to an MMSeg checkpoint.

lhoyer/DAFormer, lhoyer/HRDA and lhoyer/MIC (MMSeg 0.16 forks) publish their
training checkpoints with the student (``model.``), the EMA teacher
(``ema_model.``) and the ImageNet model (``imnet_model.``); this writes one
of student and teacher under this project's names (MMSeg's MiT, the
DAFormer / HRDA heads), the ImageNet copy dropped. The work is done by
:mod:`mmseg_fdacl.converters.daformer_release`. Nothing is downloaded.

Example::

    python tools/model_converters/daformer_release.py \
        work_dirs/211108_1622_gta2cs_daformer_s0_7f24c/latest.pth \
        checkpoints/daformer_gta2cs_mmseg.pth
    python tools/test.py configs/fdacl/daformer_gta2cs_mit-b5.py \
        checkpoints/daformer_gta2cs_mmseg.pth
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmseg_fdacl.converters.daformer_release import (  # noqa: E402
    WEIGHTS, ReleaseCheckpointError, convert_release_checkpoint)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse ``src``, ``dst``, ``--weights`` and ``--force``."""
    parser = argparse.ArgumentParser(
        description='Convert a released DAFormer / HRDA / MIC checkpoint '
        '(MMSeg 0.16 layout: model., ema_model., imnet_model.) to an MMSeg '
        '1.x checkpoint of this project.')
    parser.add_argument('src', help='released checkpoint (.pth)')
    parser.add_argument('dst', help='MMSeg checkpoint to write')
    parser.add_argument(
        '--weights', choices=WEIGHTS, default='student',
        help='network to keep: the student (what the releases report) or '
        'the EMA teacher; default: student')
    parser.add_argument(
        '--force', action='store_true', help='overwrite DST if it exists')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Run the conversion; exits with a message on a refused file."""
    args = parse_args(argv)
    try:
        report = convert_release_checkpoint(
            args.src, args.dst, weights=args.weights, force=args.force)
    except (ReleaseCheckpointError, FileNotFoundError, FileExistsError,
            ValueError) as err:
        raise SystemExit(f'error: {err}') from err
    dropped = ', '.join(f'{k} ({n} tensors)'
                        for k, n in report.dropped.items()) or 'nothing'
    print(f'Wrote the {report.weights} ({report.num_tensors} tensors'
          f'{", MiT renamed by MMSeg convert_mit" if report.mit else ""}) '
          f'to {report.dst}; dropped {dropped}.')


if __name__ == '__main__':
    main()
