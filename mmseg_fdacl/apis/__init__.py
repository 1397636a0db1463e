"""High-level functions: pseudo-label generation (and the demo pipeline)."""
from .pseudo_labels import (PseudoLabelSettingsError, apply_thresholds,
                            build_models, confidence_histogram,
                            datasets_from_config, evaluate_pseudo_labels,
                            generate_pseudo_labels,
                            inference_pipeline_from_cfg, read_manifest,
                            thresholds_from_histograms,
                            visualize_pseudo_labels)

__all__ = [
    'PseudoLabelSettingsError', 'apply_thresholds', 'build_models',
    'confidence_histogram', 'datasets_from_config', 'evaluate_pseudo_labels',
    'generate_pseudo_labels', 'visualize_pseudo_labels',
    'inference_pipeline_from_cfg', 'read_manifest',
    'thresholds_from_histograms'
]
