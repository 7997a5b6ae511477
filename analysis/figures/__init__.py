"""The report's figures, drawn with seaborn on matplotlib Figures (Agg, no pyplot state).

Every function returns the :class:`~matplotlib.figure.Figure` and, given ``path``,
writes it as ``<path>.png`` and ``<path>.svg``. A figure the sweep cannot show (its
axes do not vary, no target loss, ...) raises :class:`Skip` with the reason, which
the report prints as a note.

Seeds are never shown one at a time: curves are a median with an inter-quartile band,
boundaries the mean output over seeds with each seed's 0.5 line, cells and bars say
how many seeds they hold. Axes a figure does not study are held at the best config
(:func:`held_at_best`), named in the figure's subtitle.

The rooms, a figure family each:

- :mod:`~analysis.figures.common`: :class:`Skip`, saving, titles, panels, the best slice.
- :mod:`~analysis.figures.heatmap`: :func:`heatmaps` of two axes.
- :mod:`~analysis.figures.curves`: :func:`learning_curves` and their bands.
- :mod:`~analysis.figures.boundaries`: :func:`prediction` of one config and
  :func:`boundary_grid` over two axes.
- :mod:`~analysis.figures.units`: :func:`symmetry`, distinct hidden units per layer, and
  :func:`symmetry_over_epochs`, how far apart they are at every recorded epoch.
- :mod:`~analysis.figures.bars`: :func:`convergence_bars`.
"""

from analysis.figures.bars import convergence_bars
from analysis.figures.boundaries import (
    BOUNDARY_AXES,
    CLASS_COLOURS,
    OUTPUT_CMAP,
    best_run,
    boundary_axes,
    boundary_grid,
    prediction,
    representative_run,
)
from analysis.figures.common import DPI, STUDY_AXES, Skip, axis_title, held_at_best, save
from analysis.figures.curves import curve_band, learning_curves
from analysis.figures.heatmap import HEATMAP_METRICS, HEATMAP_NAMES, heatmaps
from analysis.figures.units import symmetry, symmetry_over_epochs

__all__ = [
    "BOUNDARY_AXES",
    "CLASS_COLOURS",
    "DPI",
    "HEATMAP_METRICS",
    "HEATMAP_NAMES",
    "OUTPUT_CMAP",
    "STUDY_AXES",
    "Skip",
    "axis_title",
    "best_run",
    "boundary_axes",
    "boundary_grid",
    "convergence_bars",
    "curve_band",
    "heatmaps",
    "held_at_best",
    "learning_curves",
    "prediction",
    "representative_run",
    "save",
    "symmetry",
    "symmetry_over_epochs",
]
