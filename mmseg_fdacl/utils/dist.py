"""Distributed training on CPU-only machines (gloo) with mmengine 0.10.7.

mmengine's launchers assume CUDA: ``init_dist`` calls ``torch.cuda.set_device``
(an ``AttributeError`` on a CPU-only torch build) and ``Runner.wrap_model``
passes ``device_ids=[LOCAL_RANK]`` to DDP, which DDP rejects for CPU modules.
:func:`setup_cpu_distributed` works around both *without touching mmengine*:
it initializes the process group itself (the runner then skips ``init_dist``
because ``torch.distributed`` is already initialized) and writes an explicit
``model_wrapper_cfg`` with ``device_ids=None`` (explicit keys win over the
runner's ``default_args``). On a machine with CUDA it changes nothing, so
NCCL runs behave exactly like MMSeg's.

SyncBN (``sync_bn='torch'`` in the config, or ``norm_cfg=dict(type='SyncBN')``)
only runs on GPUs in torch: on CPU it is replaced by plain BN with a warning,
so each process normalizes over its own batch.
"""
import copy
import datetime
import os
import subprocess
import warnings
from typing import Any, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

__all__ = ['setup_cpu_distributed', 'init_cpu_process_group',
           'replace_sync_bn']

_LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def _slurm_env_to_torch_env(port: Optional[int] = None) -> None:
    """Translate Slurm's task variables into torch.distributed's env vars."""
    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    local_id = os.environ.get('SLURM_LOCALID')
    local_rank = int(local_id) if local_id is not None else 0
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        node_list = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
    os.environ['WORLD_SIZE'] = str(ntasks)
    os.environ['LOCAL_RANK'] = str(local_rank)
    os.environ['RANK'] = str(proc_id)


def init_cpu_process_group(launcher: str,
                           backend: str = 'gloo',
                           timeout: Optional[float] = 1800,
                           port: Optional[int] = None) -> None:
    """Initialize ``torch.distributed`` for CPU processes.

    Args:
        launcher (str): ``'pytorch'`` (torchrun / ``tools/dist_train.sh``:
            ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT`` set) or
            ``'slurm'`` (``srun``: the ``SLURM_*`` variables are translated).
        backend (str): A CPU-capable backend, ``'gloo'`` or ``'mpi'``.
            Default: ``'gloo'``.
        timeout (float, optional): Collective timeout in seconds.
            Default: 1800.
        port (int, optional): Master port for Slurm. Default: None
            (``MASTER_PORT`` or 29500).
    """
    if backend not in ('gloo', 'mpi'):
        raise ValueError(f'backend={backend!r} cannot run on CPU; use '
                         "'gloo' (or 'mpi').")
    if torch_dist.is_initialized():
        return
    if launcher == 'slurm':
        _slurm_env_to_torch_env(port)
    elif launcher != 'pytorch':
        raise ValueError(f'launcher={launcher!r} is not supported on CPU; '
                         "use 'pytorch' (torchrun) or 'slurm'.")
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(
            f'launcher={launcher!r} needs the environment variables '
            f'{missing}; start the job with tools/dist_train.sh (torchrun) '
            'or tools/slurm_train.sh.')
    kwargs: dict = {}
    if timeout is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=float(timeout))
    torch_dist.init_process_group(
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)


def replace_sync_bn(cfg: Any) -> int:
    """Replace every ``type='SyncBN'`` / ``'MMSyncBN'`` norm config by ``BN``.

    Args:
        cfg: A (nested) config dict or list, modified in place.

    Returns:
        int: How many norm configs were replaced.
    """
    count = 0
    if isinstance(cfg, dict):
        if cfg.get('type') in ('SyncBN', 'MMSyncBN'):
            cfg['type'] = 'BN'
            count += 1
        for value in cfg.values():
            count += replace_sync_bn(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            count += replace_sync_bn(value)
    return count


def setup_cpu_distributed(cfg: Config, launcher: str) -> Config:
    """Make a distributed mmengine run work on a CPU-only machine.

    Call it after setting ``cfg.launcher`` and before ``Runner.from_cfg``.
    With ``launcher='none'`` or when CUDA is available it returns ``cfg``
    unchanged (GPU/NCCL runs stay MMSeg's). Otherwise it:

    * initializes the process group with gloo (``env_cfg.dist_cfg.backend``
      ``'nccl'`` is switched to ``'gloo'``, its ``timeout`` is kept);
    * sets ``model_wrapper_cfg.device_ids=None`` so DDP accepts CPU modules;
    * drops ``sync_bn`` and turns ``SyncBN`` norm layers into ``BN`` with a
      warning (torch's SyncBatchNorm needs a GPU).

    Args:
        cfg (Config): The training/testing config (modified in place).
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        Config: ``cfg``.
    """
    if launcher not in _LAUNCHERS:
        raise ValueError(f'launcher={launcher!r} is not one of {_LAUNCHERS}')
    if launcher == 'none' or torch.cuda.is_available():
        return cfg

    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = copy.deepcopy(dict(env_cfg.get('dist_cfg', {}) or {}))
    backend = dist_cfg.pop('backend', 'gloo')
    if backend == 'nccl':
        backend = 'gloo'
    port = dist_cfg.pop('port', None)
    init_cpu_process_group(
        launcher,
        backend=backend,
        timeout=dist_cfg.pop('timeout', 1800),
        port=port)
    env_cfg['dist_cfg'] = dict(backend=backend)

    wrapper = cfg.get('model_wrapper_cfg', None)
    if wrapper is None:
        wrapper = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper = dict(wrapper)
    wrapper['device_ids'] = None
    cfg['model_wrapper_cfg'] = wrapper

    sync_bn = cfg.get('sync_bn', None)
    replaced = replace_sync_bn(cfg.get('model', {}))
    if sync_bn is not None or replaced:
        warnings.warn(
            'SyncBN needs CUDA in torch; this CPU run uses per-process BN '
            f'instead (sync_bn={sync_bn!r} dropped, {replaced} SyncBN norm '
            'config(s) replaced by BN).')
        cfg.pop('sync_bn', None)
    return cfg
