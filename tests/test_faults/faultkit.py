"""Tiny training configs and test-only hooks for the fault-tolerance tests.

The hooks here are imported by configs through ``custom_imports`` in
subprocesses (``PYTHONPATH`` = repository root), so they must live in an
importable module rather than inside a test function.
"""
import os
import os.path as osp
import signal
import subprocess
import sys
from typing import Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from tests.helpers import (make_cityscapes_tree, make_gta5_tree,
                           tiny_deeplabv2_cfg)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PY = sys.executable


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """SIGKILLs its own process after iteration ``kill_at`` (1-based) ends.

    Priority LOWEST: runs after CheckpointHook saved that iteration.
    """

    priority = 'LOWEST'

    def __init__(self, kill_at: int) -> None:
        self.kill_at = kill_at

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class DumpStateHook(Hook):
    """Saves each rank's final model state dict to work_dir/final_rank{r}.pth."""

    priority = 'LOWEST'

    def after_run(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        rank, _ = get_dist_info()
        torch.save({k: v.detach().cpu().clone()
                    for k, v in model.state_dict().items()},
                   osp.join(runner.work_dir, f'final_rank{rank}.pth'))
        # The mean teacher, when a MeanTeacherHook keeps one.
        for hook in runner.hooks:
            ema = getattr(hook, 'ema', None)
            if isinstance(ema, torch.nn.Module):
                torch.save({k: v.detach().cpu().clone()
                            for k, v in ema.state_dict().items()},
                           osp.join(runner.work_dir,
                                    f'final_teacher_rank{rank}.pth'))


def make_data(root: str) -> Dict[str, str]:
    """GTA5 (6 images) and Cityscapes (4 train, 2 val) trees, 32x64."""
    gta = make_gta5_tree(osp.join(root, 'gta5'), num=6, seed=0)
    cs = make_cityscapes_tree(
        osp.join(root, 'cityscapes'), splits=(('train', 4), ('val', 2)),
        seed=1)
    return dict(gta5=gta, cityscapes=cs)


def source_only_cfg(data: Dict[str, str],
                    work_dir: str,
                    max_iters: int = 6,
                    ckpt_interval: int = 2,
                    val_interval: int = 3,
                    kill_at: Optional[int] = None,
                    max_keep_ckpts: int = 1,
                    optim_wrapper: Optional[dict] = None,
                    model: Optional[dict] = None) -> Config:
    """A tiny source-only DeepLabV2 training config on generated data."""
    crop = (24, 48)
    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='RandomCrop', crop_size=crop),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackSegInputs')
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    if model is None:
        model = tiny_deeplabv2_cfg()
        model['data_preprocessor']['size'] = crop
    custom_hooks = [dict(type='RNGStateHook'), dict(type='DumpStateHook')]
    if kill_at is not None:
        custom_hooks.append(dict(type='KillAtIterHook', kill_at=kill_at))
    cfg = dict(
        custom_imports=dict(
            imports=['mmseg_fdacl', 'tests.test_faults.faultkit'],
            allow_failed_imports=False),
        default_scope='mmseg',
        work_dir=work_dir,
        model=model,
        train_dataloader=dict(
            batch_size=2,
            num_workers=0,
            sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
            dataset=dict(
                type='GTA5Dataset',
                data_root=data['gta5'],
                pipeline=train_pipeline)),
        val_dataloader=dict(
            batch_size=1,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='CityscapesDataset',
                data_root=data['cityscapes'],
                data_prefix=dict(
                    img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
                pipeline=test_pipeline)),
        val_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        train_cfg=dict(
            type='ResumableIterBasedTrainLoop',
            max_iters=max_iters,
            val_interval=val_interval),
        val_cfg=dict(type='ValLoop'),
        optim_wrapper=optim_wrapper or dict(
            type='NonFiniteGuardOptimWrapper',
            optimizer=dict(
                type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4)),
        param_scheduler=[
            dict(type='PolyLR', power=0.9, eta_min=1e-4, begin=0,
                 end=max_iters, by_epoch=False)
        ],
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=1),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(
                type='AtomicCheckpointHook',
                by_epoch=False,
                interval=ckpt_interval,
                max_keep_ckpts=max_keep_ckpts,
                save_best='mIoU'),
            sampler_seed=dict(type='DistSamplerSeedHook')),
        custom_hooks=custom_hooks,
        env_cfg=dict(
            cudnn_benchmark=False,
            mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
            dist_cfg=dict(backend='nccl')),
        log_processor=dict(by_epoch=False),
        log_level='INFO',
        randomness=dict(seed=0),
        load_from=None,
        resume=False)
    return Config(cfg)


def write_cfg(cfg: Config, path: str) -> str:
    cfg.dump(path)
    return path


def run(cmd: List[str], timeout: int = 300,
        env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Run a command from the repository root with a one-thread CPU env."""
    full_env = dict(os.environ)
    full_env.update(
        PYTHONPATH=REPO + os.pathsep + full_env.get('PYTHONPATH', ''),
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1',
        CUDA_VISIBLE_DEVICES='')
    full_env.update(env or {})
    return subprocess.run(
        cmd, cwd=REPO, env=full_env, capture_output=True, text=True,
        timeout=timeout)


def load_state(path: str) -> Dict[str, torch.Tensor]:
    return torch.load(path, map_location='cpu', weights_only=True)


def assert_state_equal(a: Dict[str, torch.Tensor],
                       b: Dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, f'{len(diff)} tensors differ, e.g. {diff[:3]}'


@HOOKS.register_module()
class KillDuringSaveHook(Hook):
    """SIGKILLs the process while the checkpoint of iteration ``at`` is being
    written: the first ``os.fsync`` of that save truncates the file being
    written to half its size and kills the process, i.e. the state a power
    cut or OOM kill in the middle of ``write`` leaves behind.
    """

    priority = 'LOWEST'

    def __init__(self, at: int) -> None:
        self.at = at

    def before_save_checkpoint(self, runner, checkpoint) -> None:
        if runner.iter + 1 != self.at:
            return

        def fsync_then_die(fd: int) -> None:
            size = os.fstat(fd).st_size
            os.ftruncate(fd, size // 2)
            os.kill(os.getpid(), signal.SIGKILL)

        os.fsync = fsync_then_die


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def write_pseudo_labels(data: Dict[str, str]) -> str:
    """Pseudo labels for the target train images (their own labels here)."""
    import glob
    import shutil

    from mmseg_fdacl.utils import pseudo_label_path
    cs = data['cityscapes']
    img_root = osp.join(cs, 'leftImg8bit', 'train')
    out = osp.join(cs, 'pseudo_labels')
    for img in glob.glob(osp.join(img_root, '*', '*_leftImg8bit.png')):
        gt = img.replace('leftImg8bit', 'gtFine', 1).replace(
            '_leftImg8bit.png', '_gtFine_labelTrainIds.png')
        dst = pseudo_label_path(img, img_root, out)
        os.makedirs(osp.dirname(dst), exist_ok=True)
        shutil.copyfile(gt, dst)
    return out


def stage2_cfg(data: Dict[str, str], work_dir: str, **kwargs) -> Config:
    """The tiny config of :func:`source_only_cfg` turned into stage 2:
    UDADataset with pseudo labels, UDAEncoderDecoder with FDA (both ways),
    entropy and pixel contrastive losses."""
    crop = (24, 48)
    cfg = source_only_cfg(data, work_dir, **kwargs)
    source = cfg.train_dataloader.dataset.to_dict()
    target = dict(
        type='CityscapesDataset',
        data_root=data['cityscapes'],
        data_prefix=dict(img_path='leftImg8bit/train'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadPseudoLabel'),
            dict(type='RandomCrop', crop_size=crop),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackSegInputs')
        ])
    cfg.train_dataloader.dataset = dict(
        type='UDADataset', source=source, target=target, pairing='random',
        seed=0, pseudo_label_dir=write_pseudo_labels(data))
    model = tiny_deeplabv2_cfg()
    model.update(
        type='UDAEncoderDecoder', lambda_ent=0.005, lambda_cl=0.1,
        contrast_loss=dict(
            type='PixelContrastLoss', max_samples=64, max_views=16))
    model['data_preprocessor'].update(
        type='UDADataPreProcessor', size=crop,
        fda=dict(beta=0.01, target_to_source=True))
    model['auxiliary_head'] = dict(
        type='ProjectionHead', in_channels=32, in_index=0, channels=8,
        embed_dim=8, num_classes=19)
    cfg.model = model
    cfg.model_wrapper_cfg = dict(
        type='MMDistributedDataParallel', find_unused_parameters=True)
    return cfg


def online_cfg(data: Dict[str, str], work_dir: str, evaluate: str = 'student',
               **kwargs) -> Config:
    """The tiny config of :func:`stage2_cfg` turned into online
    self-training: SelfTrainingEncoderDecoder with ClassMix, colour jitter
    and blur, MIC masking, the teacher's pseudo labels for the contrast (no
    pseudo-label folder), FDA both ways, and the MeanTeacherHook."""
    cfg = stage2_cfg(data, work_dir, **kwargs)
    dataset = cfg.train_dataloader.dataset
    dataset.pseudo_label_dir = None
    dataset.target.pipeline = [
        t for t in dataset.target.pipeline if t['type'] != 'LoadPseudoLabel'
    ]
    cfg.model.update(
        type='SelfTrainingEncoderDecoder',
        mix='class',
        strong_augment=dict(color_jitter_p=0.8, color_jitter_s=0.2,
                            blur=True),
        lambda_mask=1.0,
        mask=dict(block_size=8, ratio=0.7),
        pseudo_label_view='source_style',
        class_thresholds=dict(percentile=0.66, cap=0.9, num_bins=100))
    cfg.custom_hooks.append(
        dict(type='MeanTeacherHook', alpha=0.99, evaluate=evaluate))
    return cfg
