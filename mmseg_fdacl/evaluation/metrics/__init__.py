"""Metrics registered into MMSeg's METRICS registry."""
from .benchmark_submission_metric import (SUBMISSION_FOLDERS,
                                          BenchmarkSubmissionMetric)
from .class_subset_iou_metric import (SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES,
                                      ClassSubsetIoUMetric)

__all__ = [
    'ClassSubsetIoUMetric', 'SYNTHIA_16_CLASSES', 'SYNTHIA_13_CLASSES',
    'BenchmarkSubmissionMetric', 'SUBMISSION_FOLDERS'
]
