"""Generated passes on disk: written, compiled once per machine, found and loaded by address.

Each net and batch mode has one module (:func:`kernels.codegen.module_source`), written
beside the kernels' Numba cache (:func:`kernels.options.cache_folder`, keyed on the
kernels' sources and the CPU, so an edit or another machine means a fresh compile,
never stale code). Importing the module compiles its C function, or loads it from
Numba's disk cache when a process compiled it before. A ``.ready`` file beside the
module says that the cache holds it, so :func:`is_ready` can tell without compiling,
and a sweep can train on the generic passes while another process compiles
(:func:`compile_pass`) and switch when the file appears.

Where the cache folder cannot be written (a read-only install, an unusable
``NUMBA_CACHE_DIR``), modules go to the temporary directory and compile in each
process that uses them; nothing is ever ready there.
"""

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numba

from kernels.codegen import Net, module_source
from kernels.options import cache_folder, source_keyed_cache

_loaded: dict[Net, int] = {}
_lock = threading.Lock()


def module_name(net: Net) -> str:
    """The generated module's name: a hash of its source (so of the net and the code)."""
    return "sweep_pass_" + hashlib.sha256(module_source(net).encode()).hexdigest()[:16]


def is_ready(net: Net) -> bool:
    """Whether ``net``'s pass is compiled in the disk cache (loading it costs milliseconds)."""
    return net in _loaded or (cache_folder() / f"{module_name(net)}.ready").exists()


def compile_seconds(net: Net) -> float | None:
    """How long compiling ``net``'s pass took on this machine, if it was compiled here."""
    marker = cache_folder() / f"{module_name(net)}.ready"
    try:
        return float(marker.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def address(net: Net) -> int:
    """The address of ``net``'s pass, loaded from the disk cache or compiled here first."""
    with _lock:
        if net not in _loaded:
            _loaded[net] = _import(net).lockstep_pass.address
        return _loaded[net]


def compile_pass(net: Net) -> float:
    """Compile ``net``'s pass into the disk cache (if it is not there) and mark it ready;
    the seconds it took. What a background compiler process calls."""
    start = time.perf_counter()
    address(net)
    return time.perf_counter() - start


def _import(net: Net) -> ModuleType:
    """Write, import (compile or load) and mark ``net``'s module."""
    source = module_source(net)
    name = module_name(net)
    start = time.perf_counter()
    with source_keyed_cache():
        config: Any = numba.config  # its settings are set at run time
        path = _write(Path(config.CACHE_DIR), name, source)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    marker = path.with_suffix(".ready")
    if path.parent == cache_folder() and not marker.exists():
        _atomic_write(marker, f"{time.perf_counter() - start:.3f} {net}\n")
    return module


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(f".tmp-{os.getpid()}-{threading.get_ident()}")
    tmp.write_text(text)
    tmp.replace(path)


def _write(folder: Path, name: str, source: str) -> Path:
    """``folder/name.py`` holding ``source`` (written atomically when missing or stale).

    Beside the kernels' Numba cache when that folder can be written; else in the
    temporary directory, where the module still works, compiled anew by each process.
    """
    for where in (folder, Path(tempfile.gettempdir()) / f"sweep-kernels-{os.getuid()}"):
        path = where / f"{name}.py"
        try:
            where.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != source:
                _atomic_write(path, source)
        except OSError:
            continue
        return path
    raise OSError(f"cannot write the generated pass {name}.py in {folder} or the temp dir")
