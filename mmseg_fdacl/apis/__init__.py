"""Entry points: inference and pseudo labels.

* :mod:`.inference`: :class:`UDASegInferencer` (MMSeg's ``MMSegInferencer``
  with this project's configs and student or teacher weights) and
  :func:`infer` (an image, a folder or a video -> label PNGs and overlays);
  command line ``tools/infer.py``.
* :func:`generate_pseudo_labels` and :func:`evaluate_pseudo_labels`: label a
  target set with one or more checkpoints and score the labels (command
  line ``tools/generate_pseudo_labels.py``); their parts (thresholds,
  manifest, predictor) live in :mod:`mmseg_fdacl.pseudo_labels`.
"""
from mmseg_fdacl.pseudo_labels import (evaluate_pseudo_labels,
                                       generate_pseudo_labels)
from .inference import UDASegInferencer, infer, list_inputs

__all__ = [
    'UDASegInferencer', 'infer', 'list_inputs', 'generate_pseudo_labels',
    'evaluate_pseudo_labels'
]
