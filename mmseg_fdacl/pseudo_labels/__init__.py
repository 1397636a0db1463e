"""Pseudo labels for self-training from one or an ensemble of segmentors.

The threshold rule follows FDA's self-supervised training step (Yang & Soatto,
"FDA: Fourier Domain Adaptation for Semantic Segmentation", CVPR 2020, and its
reference ``getSudoLabel`` script): for each class, the confidence at a
percentile of the pixels predicted as that class, capped; pixels below their
class threshold are ignored (255). ``selection='cbst'`` selects instead as
CBST does (Zou et al., ECCV 2018): per class a normalizer ``k_c`` keeping the
top ``portion`` of its predicted pixels, label ``argmax_c p_c / k_c`` where
that ratio is >= 1. Several checkpoints are ensembled by averaging their
softmax (FDA's multi-band transfer, MBT).

The parts, each usable alone:

* :mod:`.thresholds`: confidence histograms, percentile thresholds and CBST
  normalizers, applying them (plain numpy).
* :mod:`.predictor`: the models and the prediction (FDA target->source with
  a fixed or per-image drawn source reference, grayscale, ``test_step``,
  logits at the original image size).
* :mod:`.manifest`: ``manifest.json``: settings, their hash, reading and
  writing, :class:`PseudoLabelSettingsError`.
* :mod:`.files`: the folder's files (atomic PNG writes, stale temporary
  files) and the dataset file lists it mirrors.
* :mod:`.driver`: :func:`generate_pseudo_labels`, the two-pass (histograms,
  then labels) sharded and resumable run.
* :mod:`.report`: per class, the share of pixels predicted against the
  share kept, and a flag for a class the labels nearly never keep
  (``label_report.json``), without target labels.
* :mod:`.scoring` and :mod:`.drawing`: IoU and pictures of a finished set.
* :mod:`.config`: the inference pipeline and datasets of a training config.

Safety: every file (PNGs, manifest) is written to a temporary name in the
same folder and renamed with ``os.replace``
(:func:`mmseg_fdacl.utils.atomic_io.atomic_write_with`), so no reader ever
sees a truncated file. A folder made with other settings (or checkpoints
with other contents) is never reused: :class:`PseudoLabelSettingsError`
names the differing settings.
"""
from .config import datasets_from_config, inference_pipeline_from_cfg
from .drawing import visualize_pseudo_labels
from .driver import ImageCallback, generate_pseudo_labels
from .manifest import (MANIFEST_NAME, MANIFEST_VERSION,
                       PseudoLabelSettingsError, read_manifest, sha256_file,
                       write_manifest)
from .predictor import Predictor, build_models
from .report import REPORT_NAME, class_share_report, log_flag, read_report
from .scoring import evaluate_pseudo_labels
from .thresholds import (SELECTIONS, apply_class_balanced, apply_thresholds,
                         class_balanced_normalizers, confidence_histogram,
                         thresholds_from_histograms)

__all__ = [
    'MANIFEST_NAME', 'MANIFEST_VERSION', 'REPORT_NAME', 'ImageCallback',
    'Predictor', 'PseudoLabelSettingsError', 'SELECTIONS',
    'apply_class_balanced', 'apply_thresholds', 'build_models',
    'class_balanced_normalizers', 'class_share_report',
    'confidence_histogram', 'datasets_from_config', 'evaluate_pseudo_labels',
    'generate_pseudo_labels', 'inference_pipeline_from_cfg', 'log_flag',
    'read_manifest', 'read_report', 'sha256_file',
    'thresholds_from_histograms', 'visualize_pseudo_labels', 'write_manifest'
]
