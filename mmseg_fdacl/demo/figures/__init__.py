"""The demo's figures: the FDA figure and prediction grids in the Cityscapes
palette (drawing needs matplotlib)."""
from .fda import draw_fda_figure, save_fda_figure
from .predictions import colorize, palette_visualizer, prediction_grid

__all__ = [
    'colorize', 'draw_fda_figure', 'palette_visualizer', 'prediction_grid',
    'save_fda_figure'
]
