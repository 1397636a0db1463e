"""mmseg_fdacl: Fourier domain adaptation + pixel contrastive learning for MMSeg 1.x.

Importing this package registers every component into MMSegmentation's own
registries (MODELS, DATASETS, TRANSFORMS, HOOKS, METRICS); configs load it with
``custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)``.
"""
from . import apis, datasets, engine, evaluation, models, utils  # noqa: F401

# torch >= 2.6 loads checkpoints with weights_only=True; allow exactly what
# mmengine/MMSeg checkpoints hold so --resume and load_from work safely.
utils.register_checkpoint_safe_globals()

# Resolve oneMKL's VML kernels before any multi-threaded call: the first
# concurrent call can silently run a low-accuracy kernel on one thread's
# chunk (pytorch/pytorch#188792), which made seeded runs differ.
from .utils.mkl_warmup import warm_up_mkl_vml  # noqa: E402

warm_up_mkl_vml()

__version__ = '0.1.0'
