"""sweep: every hyperparameter study of the classic backpropagation lab, at once.

The Python API::

    from sweep import RunConfig, make_dataset, train_one
    res = train_one(RunConfig(dataset="xor", lr=1.0, target_loss=0.005, seed=3))

The names are imported on first use (PEP 562), so ``import sweep`` alone loads neither
NumPy nor Numba: ``python -m sweep`` sets up its process (:mod:`sweep.__main__`) before
they load.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sweep.config import FIELDS, RunConfig
    from sweep.datasets import DATASETS, make_dataset
    from sweep.training import RunResult, train_one

__version__ = "0.1.0"

_HOMES = {
    "FIELDS": "sweep.config",
    "RunConfig": "sweep.config",
    "DATASETS": "sweep.datasets",
    "make_dataset": "sweep.datasets",
    "RunResult": "sweep.training",
    "train_one": "sweep.training",
}

__all__ = [
    "DATASETS",
    "FIELDS",
    "RunConfig",
    "RunResult",
    "make_dataset",
    "train_one",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'sweep' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
