"""Figures (matplotlib is imported lazily inside the functions)."""
from .fda_figure import draw_fda_figure, save_fda_figure

__all__ = ['draw_fda_figure', 'save_fda_figure']
