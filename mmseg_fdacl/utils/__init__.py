"""Small helpers shared across mmseg_fdacl."""
from .checkpoint import (checkpoint_safe_globals,
                         register_checkpoint_safe_globals)
from .paths import pseudo_label_path

__all__ = [
    'checkpoint_safe_globals', 'register_checkpoint_safe_globals',
    'pseudo_label_path'
]
