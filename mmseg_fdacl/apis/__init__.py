"""High-level functions: pseudo-label generation.

The pseudo-label functions live in :mod:`mmseg_fdacl.pseudo_labels`; they
are re-exported here (and from :mod:`mmseg_fdacl.apis.pseudo_labels`).
"""
from .pseudo_labels import (MANIFEST_NAME, PseudoLabelSettingsError,
                            apply_thresholds, build_models,
                            confidence_histogram, datasets_from_config,
                            evaluate_pseudo_labels, generate_pseudo_labels,
                            inference_pipeline_from_cfg, read_manifest,
                            thresholds_from_histograms,
                            visualize_pseudo_labels)

__all__ = [
    'MANIFEST_NAME', 'PseudoLabelSettingsError', 'apply_thresholds',
    'build_models', 'confidence_histogram', 'datasets_from_config',
    'evaluate_pseudo_labels', 'generate_pseudo_labels',
    'visualize_pseudo_labels', 'inference_pipeline_from_cfg', 'read_manifest',
    'thresholds_from_histograms'
]
