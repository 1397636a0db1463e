"""mmseg_fdacl: Fourier domain adaptation + pixel contrastive learning for MMSeg 1.x.

Importing this package registers every component into MMSegmentation's own
registries (MODELS, DATASETS, TRANSFORMS, HOOKS); configs load it with
``custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)``.
"""
from . import datasets, engine, models, utils  # noqa: F401

__version__ = '0.1.0'
