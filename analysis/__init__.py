"""analysis: read what a sweep wrote, summarise it with pandas, draw it with seaborn.

For notebooks::

    import analysis
    runs = analysis.load("results/lr")              # one row per run, typed
    table = analysis.summarize(runs)                # one row per config, best first
    sweep = analysis.load("results/lr", curves=True, weights=True)
    analysis.figures.learning_curves(sweep, axis="lr")

Nothing here trains: decision boundaries and unit counts come from stored weights.
"""

from analysis.axes import varying_axes
from analysis.load import ResultsError, Sweep, load
from analysis.nets import decision_boundary, distinct_units, distinct_units_table, symmetry_table
from analysis.summarize import summarize

__all__ = [
    "ResultsError",
    "Sweep",
    "decision_boundary",
    "distinct_units",
    "distinct_units_table",
    "symmetry_table",
    "load",
    "summarize",
    "varying_axes",
]
