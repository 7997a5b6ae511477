"""The kernels a start compiles beside its training: started, reported, stopped.

The kernels that every run needs are compiled before training
(:func:`compile_first_tier`, two at once when a sweep needs two);
the faster ones :mod:`sweep.tiers` finds worth their compile go to another process
(:class:`sweep.compiling.BackgroundCompiler`), and runs switch as each is ready.
"""

import time
from collections.abc import Callable
from typing import Any

from kernels.warm import compile_kernel
from sweep import tiers
from sweep.compiling import BackgroundCompiler, Compiled


def compile_first_tier(kinds: list[str], say: Callable[[str], None]) -> None:
    """Compile ``kinds`` (what the runs need before any can start) and wait: the first
    here, the others at the same time in another process (a core each: the one-run and
    the one-lane kernel of a sweep that has both take the time of the slower)."""
    if not kinds:
        return
    names = " and ".join(f"the {kind} kernel" for kind in kinds)
    say(f"compiling {names} (once per machine: Numba's disk cache keeps them)")
    failed: list[str] = []
    compiler = None
    if len(kinds) > 1:
        compiler = BackgroundCompiler(
            [("kind", kind) for kind in kinds[1:]],
            lambda result: failed.append(result.job[1]) if result.error else None,
        )
    compile_kernel(kinds[0])
    while compiler is not None and compiler.busy:
        time.sleep(0.02)
    for kind in failed:  # the other process could not: here, then
        compile_kernel(kind)


def start_compiler(
    plan: tiers.Plan, policy: str, say: Callable[[str], None], *, first_only: bool = False
) -> BackgroundCompiler | None:
    """Start compiling ``plan.first_beside`` and ``plan.beside`` in another process, in
    that order (``"all"``: and wait for it); None if there is nothing to compile, or
    (``first_only``) no ``first_beside``."""
    if not plan.first_beside and (first_only or not plan.beside):
        return None
    names = [tiers.describe_kind(job.kind) for job in plan.beside]
    started_compiler: list[BackgroundCompiler] = []  # for the waiters' liveness check
    if plan.first_beside:
        kinds = " and ".join(f"the {kind} kernel" for kind in plan.first_beside)
        say(f"compiling {kinds} beside the training; the runs that need it train last")
        for kind in plan.first_beside:
            tiers.expect(kind, alive=lambda: not started_compiler or started_compiler[0].busy)
    if names and policy != "all":
        say(
            f"training on the kernels compiled already; compiling {len(names)} faster "
            f"beside it, runs switch as each is ready: {', '.join(names)}"
        )
    elif names:
        say(f"compiling before training: {', '.join(names)}")

    def done(result: Compiled) -> None:
        kind = tiers.describe_kind(_kind(result.job))
        if kind in plan.first_beside:
            tiers.arrived(kind)  # compiled, or its runs compile it themselves
            if not result.error:
                say(f"compiled the {kind} kernel in {result.seconds:.1f} s")
                return
        if result.error and kind in plan.first_beside:
            say(f"could not compile the {kind} kernel beside ({result.error}); its runs will")
        elif result.error:
            say(f"could not compile {kind} ({result.error}); its runs stay on the generic kernels")
        else:
            say(f"compiled {kind} in {result.seconds:.1f} s")

    started = time.perf_counter()
    jobs = [_job(kind) for kind in plan.first_beside] + [_job(job.kind) for job in plan.beside]
    compiler = BackgroundCompiler(jobs, done)
    started_compiler.append(compiler)
    if policy == "all":
        while compiler.busy:
            time.sleep(0.05)
        n = sum(1 for job in plan.beside if job.kind != "loop")
        say(
            f"compiled {n} kernel{'s' if n != 1 else ''} for these nets in "
            f"{time.perf_counter() - started:.0f} s (once: Numba's disk cache keeps them)"
        )
    return compiler


def _job(kind: str | tuple[Any, ...]) -> tuple[Any, ...]:
    """A :mod:`sweep.compile_worker` job for a kernel."""
    return ("kind", kind) if isinstance(kind, str) else ("net", *kind)


def _kind(job: tuple[Any, ...]) -> Any:
    """The kernel a :mod:`sweep.compile_worker` job names."""
    return job[1] if job[0] == "kind" else tuple(job[1:])


def stop_compiler(
    compiler: BackgroundCompiler | None, plan: tiers.Plan, say: Callable[[str], None]
) -> dict[str, Any]:
    """Stop the compiler (what it had not finished is left for another sweep) and say
    what it did; what the manifest records of this start's kernels."""
    record: dict[str, Any] = {"compiled_before": list(plan.before), "compiled_beside": []}
    record["not_worth_compiling"] = [tiers.describe_kind(job.kind) for job in plan.skipped]
    record["compiled_beside_first"] = list(plan.first_beside)
    if compiler is None:
        return record
    left = len(compiler.pending) + (1 if compiler.busy else 0)
    compiler.stop()
    for kind in plan.first_beside:  # nobody waits for a compile that stopped
        tiers.arrived(kind)
    record["compiled_beside"] = [
        {"kernel": tiers.describe_kind(_kind(result.job)), "seconds": round(result.seconds, 2)}
        for result in compiler.done
        if not result.error
    ]
    if left > 0:
        say(f"training finished first: {left} kernel compile(s) left for another sweep")
    return record
