"""Compiling the kernels on purpose, and knowing which ones the disk cache holds.

A kernel here is one compile a training run may wait for (:data:`SHARED` names the
ones every net shares; a generated pass is named by its net, :mod:`kernels.specialised`):

- ``"one run full batch"``, ``"one run mini-batch"``, ``"one run online"``:
  :func:`kernels.train` (one run at a time), a kernel a batch mode; the first also
  :func:`kernels.predict`; ``"one run"`` names all three;
- ``"one lane"``: :func:`kernels.train_one_lane` (one run with the lockstep's bits);
- ``"loop"``: the lockstep training loop (:mod:`kernels.lockstep_loop`) with the
  optimizer steps and the shuffle;
- ``"generic <mode>"``: the generic lockstep pass of a batch mode
  (:mod:`kernels.lockstep_passes`);
- a net's generated pass (:func:`kernels.specialised.compile_pass`).

:func:`compile_kernel` compiles one (or loads it from Numba's disk cache) with a tiny
training call and leaves a ``.ready`` file in the cache folder; :func:`is_compiled`
tells from that file, without compiling, whether a process would only load it. A sweep
uses both: it compiles what its first runs need before they start, and the rest in
another process while it trains (:mod:`sweep.compiling`).
"""

import os
import time
from pathlib import Path

import numba
import numpy as np

from kernels import specialised
from kernels.checks import pack
from kernels.codegen import Net
from kernels.init import init_params
from kernels.lanes import BATCH_MODES
from kernels.lockstep import lane_args, net_info
from kernels.lockstep_loop import train_lanes
from kernels.lockstep_passes import generic_address
from kernels.one_lane import train_one_lane
from kernels.options import cache_folder
from kernels.train import ONE_RUN_MODES, predict, train

ONE_RUN_KINDS = tuple(f"one run {mode}" for mode in ONE_RUN_MODES)
SHARED = (*ONE_RUN_KINDS, "one lane", "loop", *(f"generic {mode}" for mode in BATCH_MODES))
_known: set[str] = set()


def is_compiled(kind: str | Net) -> bool:
    """Whether the disk cache holds ``kind`` (a name of :data:`SHARED` or a net)."""
    if not isinstance(kind, str):
        return specialised.is_ready(kind)
    if kind == "one run":
        return all(is_compiled(k) for k in ONE_RUN_KINDS)
    return kind in _known or _marker(kind).exists()


def compile_kernel(kind: str | Net) -> float:
    """Compile ``kind`` (or load it from the disk cache) and mark it compiled; seconds taken.

    A generated pass needs the loop that calls it: it is compiled first if it is not.
    """
    start = time.perf_counter()
    if not isinstance(kind, str):
        if not is_compiled("loop"):
            compile_kernel("loop")
        specialised.compile_pass(kind)
        return time.perf_counter() - start
    if kind == "one run":
        for one in ONE_RUN_KINDS:
            compile_kernel(one)
        return time.perf_counter() - start
    if kind not in SHARED:
        raise ValueError(f"kind must be a net or one of {', '.join(SHARED)}, got {kind!r}")
    x = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    y = np.array([0.0, 1.0, 1.0])
    params = init_params([2, 2, 1], "normal", 0)
    if kind in ONE_RUN_KINDS:
        batch_size = {"full batch": None, "mini-batch": 2, "online": 1}[kind[len("one run ") :]]
        train(x, y, params, epochs=2, target_loss=1e-9, batch_size=batch_size)
        if batch_size is None:
            predict(x, params)
    elif kind == "one lane":
        for batch_size in (None, 2, 1):
            train_one_lane(x, y, params, epochs=2, target_loss=1e-9, batch_size=batch_size)
    elif kind == "loop":  # compiled for the types of its arguments, not run
        sizes = np.array([2, 2, 1])
        net = net_info(sizes, (0, 0, 0), True)
        xt, theta = np.ascontiguousarray(x.T), pack(params)[:, None]
        lanes = (theta, np.ones(1), np.ones(1), np.ones(1), np.zeros(1, np.int64))
        outputs: tuple[np.ndarray, ...] = (np.empty_like(theta), np.empty((1, 2)), np.empty((1, 2)))
        outputs += (np.empty((1, 2, 1)),)
        outputs += (np.empty(1, np.int64), np.empty(1, np.int64), np.empty(1, np.bool_))
        args = lane_args(xt, y, net, (0, 2, 3, True, True), 0, lanes, outputs)
        train_lanes.compile(tuple(numba.typeof(a) for a in args))
    else:  # a generic pass, and the loop that calls it
        if not is_compiled("loop"):
            compile_kernel("loop")
        generic_address(BATCH_MODES.index(kind.split(" ", 1)[1]))
    _mark(kind)
    return time.perf_counter() - start


def warm_up() -> None:
    """Compile (or load from Numba's disk cache) every kernel all nets share, at once."""
    for kind in SHARED:
        compile_kernel(kind)


def _marker(kind: str) -> Path:
    return cache_folder() / f"{kind.replace(' ', '-')}.ready"


def _mark(kind: str) -> None:
    _known.add(kind)
    folder = cache_folder()
    if not (folder.is_dir() and os.access(folder, os.W_OK)):
        return  # Numba could not cache it here either: nothing to promise
    path = _marker(kind)
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(f"{kind}\n")
    tmp.replace(path)
