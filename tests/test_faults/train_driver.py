"""Minimal train entry point for the fault tests (what tools/train.py does).

Used where the tests need a process of their own to kill; the distributed
test uses tools/dist_train.sh itself.
"""
import argparse

from mmengine.config import Config
from mmengine.runner import Runner

from mmseg_fdacl.utils.dist import setup_cpu_distributed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    parser.add_argument('--resume', action='store_true')
    parser.add_argument(
        '--launcher', default='none', choices=['none', 'pytorch', 'slurm'])
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    cfg.resume = args.resume
    setup_cpu_distributed(cfg, args.launcher)
    Runner.from_cfg(cfg).train()


if __name__ == '__main__':
    main()
