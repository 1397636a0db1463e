"""Test-set predictions in the format of the ACDC and Dark Zurich servers.

Their test labels are private: a model is scored by uploading one PNG per
test image. As HRDA's README instructs for both servers (``tools/test.py
... --format-only --eval-option imgfile_prefix=labelTrainIds
to_label_id=False``), the PNGs hold Cityscapes train ids (0..18) and are
named after the image (``<frame>_rgb_anon.png``), at the image's full
resolution. Dark Zurich's server also scores the uncertainty-aware UIoU and
expects three folders, ``labelTrainIds/``, ``labelTrainIds_invalid/`` and
``confidence/`` (16-bit, 65535 = certain), as in the public submissions of
DANNet and CIConv: the prediction goes to the first two, the top softmax
probability to the third. ``to_label_id=True`` writes Cityscapes label ids
(0..33) instead, for servers that take those (Cityscapes' own).
"""
import os.path as osp
from typing import Dict, Sequence

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.utils import mkdir_or_exist
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from PIL import Image

from mmseg_fdacl.datasets.label_ids import TRAIN_ID_TO_LABEL_ID

__all__ = ['SUBMISSION_FOLDERS', 'BenchmarkSubmissionMetric']

#: Folders each server's archive holds ('' = the output folder itself).
SUBMISSION_FOLDERS: Dict[str, Sequence[str]] = dict(
    acdc=('', ),
    dark_zurich=('labelTrainIds', 'labelTrainIds_invalid', 'confidence'))

_TO_LABEL_ID = np.zeros(256, np.uint8)  # 255 (ignore) -> 0 (unlabeled)
_TO_LABEL_ID[:len(TRAIN_ID_TO_LABEL_ID)] = TRAIN_ID_TO_LABEL_ID


@METRICS.register_module()
class BenchmarkSubmissionMetric(IoUMetric):
    """Writes server-format predictions; evaluates too where labels exist.

    With ``format_only=True`` (the test split, no labels) only the files
    are written; otherwise MMSeg's IoUMetric scores the predictions as well
    (e.g. on the labeled val split, to check the files against a known
    mIoU).

    Args:
        server (str): 'acdc' or 'dark_zurich'.
        output_dir (str): Where the files go (``tools/test.py --out DIR``
            sets it); zip its content for the upload.
        to_label_id (bool): Write Cityscapes label ids instead of train ids.
            Default: False.
        format_only (bool): Default: True.
        **kwargs: Passed to ``IoUMetric``.

    Raises:
        ValueError: For an unknown server or no ``output_dir``.
    """

    def __init__(self,
                 server: str,
                 output_dir: str,
                 to_label_id: bool = False,
                 format_only: bool = True,
                 **kwargs) -> None:
        if server not in SUBMISSION_FOLDERS:
            raise ValueError(
                f'BenchmarkSubmissionMetric: `server` must be one of '
                f'{sorted(SUBMISSION_FOLDERS)}, got {server!r}.')
        if not output_dir:
            raise ValueError('BenchmarkSubmissionMetric: `output_dir` is '
                             'required (tools/test.py --out DIR sets it).')
        super().__init__(output_dir=output_dir, format_only=format_only,
                         **kwargs)
        self.server = server
        self.to_label_id = bool(to_label_id)
        if is_main_process():
            for folder in SUBMISSION_FOLDERS[server]:
                mkdir_or_exist(osp.join(output_dir, folder))

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Write each prediction; accumulate IoU areas unless format_only."""
        num_classes = len(self.dataset_meta['classes'])
        for data_sample in data_samples:
            # (1, H, W) -> (H, W); squeeze() would also drop H or W of 1.
            pred = data_sample['pred_sem_seg']['data'][0]
            if not self.format_only:
                label = data_sample['gt_sem_seg']['data'][0].to(pred)
                self.results.append(self.intersect_and_union(
                    pred, label, num_classes, self.ignore_index))
            self._write(data_sample, pred)

    def _write(self, data_sample: dict, pred: torch.Tensor) -> None:
        name = osp.splitext(osp.basename(data_sample['img_path']))[0] + '.png'
        labels = pred.cpu().numpy().astype(np.uint8)
        if self.to_label_id:
            labels = _TO_LABEL_ID[labels]
        if self.server == 'acdc':
            Image.fromarray(labels).save(osp.join(self.output_dir, name))
            return
        for folder in ('labelTrainIds', 'labelTrainIds_invalid'):
            Image.fromarray(labels).save(
                osp.join(self.output_dir, folder, name))
        logits = data_sample.get('seg_logits')
        if logits is None:
            raise KeyError(
                'BenchmarkSubmissionMetric(server="dark_zurich") needs the '
                "model's `seg_logits` for the confidence maps; the "
                'segmentor must return them with pred_sem_seg (MMSeg\'s '
                'EncoderDecoder does).')
        probs = torch.softmax(logits['data'].float(), dim=0).max(dim=0)[0]
        conf = np.round(probs.cpu().numpy() * 65535).astype(np.uint16)
        Image.fromarray(conf).save(osp.join(self.output_dir, 'confidence',
                                            name))
