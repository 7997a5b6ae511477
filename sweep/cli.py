"""The command line: ``python -m sweep run|validate ...`` (and analysis's commands).

Every subcommand is a function ``func(args) -> int`` (the exit status) set on its
parser. A mistake the user can fix (:class:`~sweep.errors.UserError`,
:class:`~sweep.grid.GridError`, a bad flag) prints ``sweep: error: <one line>`` to
stderr and exits with status 2, before anything is written. ``run`` exits with 1 when
some runs failed (their rows hold the error), 0 when every run finished (ok or diverged).
"""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sweep.errors import SweepAborted, UserError
from sweep.grid import BACKENDS, GridError, SweepSpec, describe, load_grid

RESULTS = Path("results")
COMPILE_POLICIES = ("auto", "all", "none")  # sweep.tiers.POLICIES (which imports the kernels)
# The tool's own commands: their parser leaves out analysis's, whose modules load
# pandas, 0.14 s of start-up that ``run`` (see sweep.store) and ``validate`` never need.
SWEEP_COMMANDS = ("run", "validate")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("sweep").strip()
        hint = f"see: python -m sweep {command + ' ' if command else ''}--help"
        self.exit(2, f"sweep: error: {message} ({hint})\n")


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"--jobs must be a non-zero integer (joblib's meaning: -1 = all cores), got {text!r}"
        )
    return value


def results_dir(spec: SweepSpec, out: Path | None) -> Path:
    """``--out`` itself, or ``results/<name>`` under the current folder."""
    return out if out is not None else RESULTS / spec.name


def _validate(args: argparse.Namespace) -> int:
    print(describe(load_grid(args.grid)))
    return 0


def _run(args: argparse.Namespace) -> int:
    from sweep import store
    from sweep.runner import grid_order, run_sweep

    spec = load_grid(args.grid)
    out_dir = results_dir(spec, args.out)
    if args.dry_run:
        print(describe(spec))
        done = 0
        if (out_dir / store.GRID_FILE).is_file():
            done = int(grid_order(spec).contains(store.run_keys(out_dir)[0]).sum())
        print(f"results: {out_dir} ({done:,} of {len(spec.runs):,} runs already there)")
        return 0
    summary = run_sweep(
        spec=spec,
        out_dir=out_dir,
        n_jobs=args.jobs,
        backend=args.backend,
        scheduler=args.scheduler,
        fresh=args.fresh,
        retry_failed=args.retry_failed,
        quiet=args.quiet,
        compile=args.compile,
    )
    counts = f"{summary.n_ok:,} ok, {summary.n_diverged:,} diverged, {summary.n_failed:,} failed"
    if summary.n_trained == 0:
        print(
            f"nothing to do: all {summary.n_runs:,} runs of {spec.name!r} are already in "
            f"{out_dir} ({counts})"
        )
    else:
        print(
            f"trained {summary.n_trained:,} runs in {summary.seconds:.1f} s "
            f"({summary.runs_per_second:,.1f} runs/s); {spec.name!r} now has {counts} "
            f"in {out_dir}"
        )
    if summary.n_failed:
        print(
            f"sweep: {summary.n_failed:,} runs failed (first: {summary.first_error}); "
            "their rows in runs.parquet hold the error; --retry-failed trains them again",
            file=sys.stderr,
        )
    return summary.exit_code


def build_parser(*, analysis: bool = True) -> argparse.ArgumentParser:
    """The ``sweep`` parser: ``run`` and ``validate``, plus analysis's commands if
    present and ``analysis`` is true."""
    parser = _Parser(
        prog="sweep",
        description="Hyperparameter sweeps of the backpropagation lab: run a grid file, "
        "in parallel, into Parquet.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="train every run of a grid file not yet in its results folder",
        description="Train every run of GRID not yet in the results folder (resumable). "
        "Exit status: 0 all runs finished (ok or diverged), 1 some runs failed, "
        "2 a mistake in the grid file or the arguments.",
    )
    run.add_argument("grid", type=Path, metavar="GRID", help="the grid TOML file")
    run.add_argument(
        "--out", type=Path, metavar="DIR", help="results folder (default: results/<name>)"
    )
    run.add_argument(
        "--jobs", "-j", type=_jobs, metavar="N", help="parallel workers (joblib's n_jobs)"
    )
    run.add_argument("--backend", choices=BACKENDS, help="joblib backend (default: threading)")
    run.add_argument(
        "--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786"
    )
    run.add_argument(
        "--fresh", action="store_true", help="move existing results aside and start over"
    )
    run.add_argument(
        "--retry-failed", action="store_true", help="train runs stored as failed again"
    )
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar or messages")
    run.add_argument(
        "--compile",
        choices=COMPILE_POLICIES,
        default="auto",
        help="faster kernels for these nets: compile those that pay, beside the training "
        "(auto, the default), all of them before training (all), or none",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="check the grid and print what would run"
    )
    run.set_defaults(func=_run)

    validate = commands.add_parser(
        "validate",
        help="check a grid file and print its runs and axes",
        description="Check GRID and print the number of runs, the axes and the fixed "
        "values; touches no file.",
    )
    validate.add_argument("grid", type=Path, metavar="GRID", help="the grid TOML file")
    validate.set_defaults(func=_validate)

    if not analysis:
        return parser
    try:
        from analysis import commands as analysis_commands
    except ImportError as e:
        if e.name not in ("analysis", "analysis.commands"):
            raise
    else:
        analysis_commands.register(commands)
    return parser


def arrow_uses_malloc() -> None:
    """Have Arrow allocate with the C library's malloc in this process, unless the
    ``ARROW_DEFAULT_MEMORY_POOL`` environment variable already names a pool.

    pyarrow's default pool here, mimalloc, keeps most of what it frees (much of it
    freed by other threads than the one that allocated it): a 300,000-run sweep's
    consolidation rose ~120 MB above its training with it, ~50 MB with malloc or
    jemalloc, at the same speed (``benchmarks/sweep_memory.py``). Arrow reads the
    variable once, when pyarrow is first imported, so this must come before that; a
    Python caller of the library keeps its own choice.
    """
    if "pyarrow" not in sys.modules:
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the subcommand; its exit status (2 for a user's mistake)."""
    arrow_uses_malloc()
    argv = sys.argv[1:] if argv is None else list(argv)
    ours = bool(argv) and argv[0] in SWEEP_COMMANDS
    args = build_parser(analysis=not ours).parse_args(argv)
    try:
        return int(args.func(args))
    except (UserError, GridError) as e:
        print("sweep: error: " + " ".join(str(e).splitlines()), file=sys.stderr)
        return 2
    except SweepAborted as e:
        print("sweep: error: " + " ".join(str(e).splitlines()), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "sweep: interrupted; finished runs are saved, run the same command to resume",
            file=sys.stderr,
        )
        return 130
