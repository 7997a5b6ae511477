"""sweep: every hyperparameter study of the classic backpropagation lab, at once.

The Python API::

    from sweep import RunConfig, make_dataset, train_one
    res = train_one(RunConfig(dataset="xor", lr=1.0, target_loss=0.005, seed=3))
"""

from sweep.config import FIELDS, RunConfig
from sweep.datasets import DATASETS, make_dataset
from sweep.training import RunResult, train_one

__version__ = "0.1.0"

__all__ = [
    "DATASETS",
    "FIELDS",
    "RunConfig",
    "RunResult",
    "make_dataset",
    "train_one",
    "__version__",
]
