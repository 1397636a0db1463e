"""Scoring the pipeline's models (MMSeg's ``Runner.test()`` and
``IoUMetric``) and its pseudo labels, one JSON file per table row."""
import copy
import json
import os
import os.path as osp
from typing import Any, Dict, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

from mmseg_fdacl.apis import evaluate_pseudo_labels
from mmseg_fdacl.utils.atomic_io import atomic_write
from .runs import runner_cfg
from .spec import NUM_VIS


def write_json(path: str, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically (parents are created)."""
    atomic_write(path, json.dumps(obj, indent=1))


@METRICS.register_module()
class PerClassIoUMetric(IoUMetric):
    """MMSeg's ``IoUMetric`` that returns the per-class IoU as well.

    Areas are :meth:`IoUMetric.intersect_and_union` of each image (its
    :meth:`process`), summed in float64 and turned into IoU with
    :meth:`IoUMetric.total_area_to_metrics`. Unlike ``IoUMetric``'s mIoU,
    classes absent from the ground truth are left out of the mean (an absent
    class predicted somewhere would count as 0), and nothing is rounded.

    Args:
        pred_dir (str, optional): Where the first ``num_preds`` predictions
            go, as train-id PNGs named after their images. Default: None.
        num_preds (int): How many predictions to write. Default: 0.
        **kwargs: Arguments of ``IoUMetric``.
    """

    def __init__(self,
                 pred_dir: Optional[str] = None,
                 num_preds: int = 0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.pred_dir = pred_dir
        self.num_preds = num_preds if pred_dir else 0
        self._seen = 0
        if pred_dir:
            os.makedirs(pred_dir, exist_ok=True)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Add the areas of a batch and write its first predictions."""
        super().process(data_batch, data_samples)
        for sample in data_samples:
            if self._seen < self.num_preds:
                pred = sample['pred_sem_seg']['data'].squeeze(0).cpu()
                name = osp.splitext(osp.basename(sample['img_path']))[0]
                cv2.imwrite(
                    osp.join(self.pred_dir, name + '.png'),
                    pred.numpy().astype(np.uint8))
            self._seen += 1

    def compute_metrics(self, results: list) -> Dict[str, Any]:
        """``IoU`` per class in % (None where no pixel is labeled or
        predicted), ``mIoU`` over the classes in the ground truth and
        ``aAcc``, in %."""
        intersect, union, pred, label = (
            torch.stack([r[i] for r in results]).double().sum(0)
            for i in range(4))
        m = self.total_area_to_metrics(intersect, union, pred, label,
                                       self.metrics, self.nan_to_num,
                                       self.beta)
        iou = [float(v) * 100 for v in np.asarray(m['IoU'], np.float64)]
        valid = [
            v for v, n in zip(iou, label.numpy()) if n > 0 and not np.isnan(v)
        ]
        return dict(
            IoU=[None if np.isnan(v) else v for v in iou],
            mIoU=float(np.mean(valid)) if valid else 0.0,
            aAcc=float(m['aAcc']) * 100)


def evaluate_model(cfg: Config,
                   checkpoint: str,
                   out_file: str,
                   *,
                   vis_dir: Optional[str] = None,
                   num_vis: int = NUM_VIS) -> dict:
    """Per-class IoU of a checkpoint on ``cfg.test_dataloader.dataset``.

    Runs ``Runner.from_cfg(cfg).test()`` (what ``tools/test.py`` does) with
    :class:`PerClassIoUMetric` as the test evaluator; the runner's logs go to
    ``out_file`` without ``.json`` plus ``_test/``.

    Args:
        cfg (Config): The model's training config.
        checkpoint (str): The checkpoint to score.
        out_file (str): The JSON written: ``IoU`` per class in %, ``mIoU``,
            ``aAcc``, ``classes``, ``checkpoint``, ``num_images``.
        vis_dir (str, optional): Where the first ``num_vis`` predictions go
            (train-id PNGs named after the images). Default: None.
        num_vis (int): Predictions to write. Default: :data:`NUM_VIS`.

    Returns:
        dict: What ``out_file`` holds.
    """
    cfg = runner_cfg(cfg, osp.splitext(out_file)[0] + '_test')
    cfg.load_from = checkpoint
    cfg.resume = False
    cfg.test_evaluator = dict(
        type='PerClassIoUMetric',
        iou_metrics=['mIoU'],
        pred_dir=vis_dir,
        num_preds=num_vis)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    dataset = runner.test_dataloader.dataset
    result = dict(
        IoU=metrics['IoU'],
        mIoU=metrics['mIoU'],
        aAcc=metrics['aAcc'],
        classes=list(dataset.metainfo['classes']),
        checkpoint=osp.abspath(checkpoint),
        num_images=len(dataset))
    write_json(out_file, result)
    return result


def scoring_target(target_dataset: dict) -> Optional[dict]:
    """The target train split with its ground truth, to score pseudo labels.

    The adaptation configs load the target train images without labels
    (``data_prefix`` has no ``seg_map_path``); Cityscapes has them beside the
    images (``leftImg8bit/train`` -> ``gtFine/train``), and the reference's
    "Pseudo Labels" row is scored against them. The demo's target split
    names its labels itself.

    Args:
        target_dataset (dict): The target train dataset config (not changed).

    Returns:
        dict | None: A copy without ``pipeline`` that names the labels, or
        None where the split has none (the pseudo-label row is left out).
    """
    target = copy.deepcopy(dict(target_dataset))
    target.pop('pipeline', None)
    prefix = dict(target.get('data_prefix') or {})
    if prefix.get('seg_map_path'):
        return target
    img = prefix.get('img_path') or ''
    guess = img.replace('leftImg8bit', 'gtFine', 1)
    if guess == img or not osp.isdir(
            osp.join(target.get('data_root') or '', guess)):
        return None
    prefix['seg_map_path'] = guess
    target['data_prefix'] = prefix
    return target


def score_pseudo_labels(label_dir: str, target_dataset: dict,
                        out_file: str) -> dict:
    """The pseudo-label row, in the layout of :func:`evaluate_model`.

    :func:`mmseg_fdacl.apis.evaluate_pseudo_labels`: IoU over the pixels the
    pseudo labels keep (as the reference's "Pseudo Labels" row), plus their
    ``coverage``.

    Args:
        label_dir (str): The pseudo-label folder.
        target_dataset (dict): The target train split (with ground truth).
        out_file (str): The JSON written.

    Returns:
        dict: What ``out_file`` holds.

    Raises:
        FileNotFoundError: The target split has no ground truth.
    """
    r = evaluate_pseudo_labels(label_dir, copy.deepcopy(target_dataset))
    if r is None:
        raise FileNotFoundError(
            'the target train split has no ground truth to score the pseudo '
            'labels against; leave the pseudo-label row out.')
    iou = [None if np.isnan(v) else float(v) for v in r['iou']]
    result = dict(
        classes=r['classes'],
        IoU=iou,
        mIoU=float(r['miou']),
        coverage=float(r['coverage']),
        label_dir=osp.abspath(label_dir),
        num_images=r['num_images'])
    write_json(out_file, result)
    return result
