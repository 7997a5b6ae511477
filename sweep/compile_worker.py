"""The background compiler's process: compiles the kernels it is sent, one at a time.

Started by :class:`sweep.compiling.BackgroundCompiler` as ``python -m
sweep.compile_worker``, with the sweep's environment (so the same Numba cache folder).
It reads one job a line on stdin, a JSON list: ``["kind", name]`` for a kernel all nets
share (:data:`kernels.warm.SHARED`) or ``["net", sizes, hidden, output, loss, bias,
mode]`` for a net's generated pass; compiles it into the disk cache
(:func:`kernels.warm.compile_kernel`, which marks it compiled) and answers with one JSON
line, ``{"done": job, "seconds": s}`` or ``{"failed": job, "error": text}``. It stops
at the end of its input, or after :data:`MAX_JOBS` jobs, so that what the compiler
keeps in memory never piles up (the parent starts another for the rest).
"""

import json
import sys
from typing import Any

MAX_JOBS = 16


def job_kind(job: list[Any]) -> Any:
    """The :func:`kernels.warm.compile_kernel` argument a job names."""
    if job[0] == "kind":
        return str(job[1])
    sizes, hidden, output, loss, bias, mode = job[1:]
    return (
        tuple(int(v) for v in sizes),
        int(hidden),
        int(output),
        int(loss),
        bool(bias),
        int(mode),
    )


def main() -> None:
    from kernels.warm import compile_kernel  # after the interpreter is up: imports Numba

    for done, line in enumerate(sys.stdin, start=1):
        job = json.loads(line)
        try:
            seconds = compile_kernel(job_kind(job))
        except Exception as error:  # noqa: BLE001 (reported to the parent, which goes on)
            print(json.dumps({"failed": job, "error": f"{type(error).__name__}: {error}"}))
        else:
            print(json.dumps({"done": job, "seconds": round(seconds, 3)}))
        sys.stdout.flush()
        if done >= MAX_JOBS:
            return


if __name__ == "__main__":
    main()
