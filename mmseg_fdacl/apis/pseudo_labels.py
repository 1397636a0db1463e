"""Pseudo-label generation, re-exported from :mod:`mmseg_fdacl.pseudo_labels`.

Kept so that ``from mmseg_fdacl.apis.pseudo_labels import ...`` (and
``from .pseudo_labels import ...`` inside :mod:`mmseg_fdacl.apis`) keep
working; the code lives in the package's parts. Every public name of the
package is here, plus ``IGNORE_INDEX``, which this module used to define.
"""
from mmseg_fdacl import pseudo_labels as _package
from mmseg_fdacl.datasets.label_ids import IGNORE_INDEX
from mmseg_fdacl.pseudo_labels import *  # noqa: F401,F403

__all__ = ['IGNORE_INDEX', *_package.__all__]
