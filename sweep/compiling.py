"""Compiling kernels beside the training, in another process.

A sweep trains at once on the kernels that need no compile per net, and compiles the
faster kernels that pay for themselves (:mod:`sweep.tiers` decides which) in a
process of their own: the disk cache is shared, so a kernel compiled there is loaded
by the training process in milliseconds, chunk by chunk, as soon as it is ready
(:func:`kernels.warm.is_compiled`); and the training process never holds a compiler's
memory. :class:`BackgroundCompiler` sends the jobs one at a time to
``python -m sweep.compile_worker`` (started again after every
:data:`sweep.compile_worker.MAX_JOBS` jobs) and reports each one done.
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sweep.compile_worker import MAX_JOBS


@dataclass(frozen=True)
class Compiled:
    """One job's outcome: what it compiled, how long it took, the error if it failed."""

    job: tuple[Any, ...]
    seconds: float
    error: str | None = None


class BackgroundCompiler:
    """Compiles ``jobs`` in order in a worker process; ``on_done(Compiled)`` after each.

    ``jobs`` are :func:`sweep.compile_worker.job_kind` jobs as tuples. :meth:`stop`
    ends the work: the job being compiled is abandoned (the disk cache only ever gains
    whole entries) and the rest are not started.
    """

    def __init__(
        self, jobs: Sequence[tuple[Any, ...]], on_done: Callable[[Compiled], None]
    ) -> None:
        self.pending = list(jobs)
        self.done: list[Compiled] = []
        self._on_done = on_done
        self._stopping = threading.Event()
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="sweep-compiler", daemon=True)
        self.started = time.perf_counter()
        self._thread.start()

    def _start_worker(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "sweep.compile_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )

    def _run(self) -> None:
        answered = 0
        while self.pending and not self._stopping.is_set():
            if answered >= MAX_JOBS:  # it exits after that many: a fresh one for the rest
                self._close()
            with self._lock:
                if self._process is None or self._process.poll() is not None:
                    self._process = self._start_worker()
                    answered = 0
                process = self._process
            job = self.pending[0]
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps(list(job)) + "\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except (BrokenPipeError, OSError, ValueError):
                line = ""
            if self._stopping.is_set():
                return
            self.pending.pop(0)
            if not line:  # the worker died on this job: report it, go on with a new one
                result = Compiled(job, 0.0, "the compiler process stopped")
                with self._lock:
                    self._process = None
            else:
                answer = json.loads(line)
                result = Compiled(job, float(answer.get("seconds", 0.0)), answer.get("error"))
                answered += 1
            self.done.append(result)
            self._on_done(result)
        self._close()

    def _close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    @property
    def busy(self) -> bool:
        """Whether jobs are still being compiled or waiting."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Abandon what is left and end the worker process."""
        self._stopping.set()
        self._close()
        self._thread.join(timeout=10)
