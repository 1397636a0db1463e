"""Evaluation: metrics registered into MMSeg's METRICS registry."""
from .metrics import *  # noqa: F401,F403
from .metrics import __all__  # noqa: F401
