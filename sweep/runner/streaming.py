"""The training phase: chunks trained through joblib as workers free up, their tables
written as parts every few seconds, with a progress bar."""

import sys
import time
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pyarrow as pa
from joblib import Parallel, delayed
from tqdm import tqdm

from sweep import store
from sweep.errors import SweepAborted
from sweep.runner.planning import Chunk
from sweep.runner.worker import train_chunk

MIN_PART_SECONDS = 2.0  # write a part at most this often ...
PART_FRACTION = 0.05  # ... or every 5% of the elapsed time, whichever is longer
MAX_PART_ROWS = 500_000  # ... or when this many curve rows wait (~20 MB)
MAX_PART_RUNS = 5_000  # ... or this many runs (their runs and weights rows)


class PartWriter:
    """Collects finished chunks and writes them as one part every few seconds.

    The first chunk is written at once (early proof on disk that the sweep works);
    after that a part every :data:`MIN_PART_SECONDS`, or every :data:`PART_FRACTION` of
    the time elapsed when that is longer: a long sweep makes tens of parts, not
    thousands, and a kill loses at most that much work.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.started = self.last = time.monotonic()
        self.pending: dict[str, list[pa.Table]] = {kind: [] for kind in store.KINDS}
        self.rows = 0
        self.runs = 0
        self.written = 0

    def add(self, tables: dict[str, pa.Table]) -> None:
        for kind in store.KINDS:
            self.pending[kind].append(tables[kind])
        self.rows += tables["curves"].num_rows
        self.runs += tables["runs"].num_rows
        now = time.monotonic()
        interval = max(MIN_PART_SECONDS, PART_FRACTION * (now - self.started))
        full = self.rows >= MAX_PART_ROWS or self.runs >= MAX_PART_RUNS
        if not self.written or now - self.last >= interval or full:
            self.flush()

    def flush(self) -> None:
        if not self.pending["runs"]:
            return
        store.write_part(
            self.out_dir,
            {kind: pa.concat_tables(tables) for kind, tables in self.pending.items()},
        )
        self.pending = {kind: [] for kind in store.KINDS}
        self.rows = self.runs = 0
        self.written += 1
        self.last = time.monotonic()


def train_chunks(
    chunks: Iterable[Chunk],
    *,
    out_dir: Path,
    record_every: int,
    total: int,
    quiet: bool,
    progress: Callable[[int, int], None] | None,
    name: str,
) -> int:
    """Train the chunks with the active joblib backend (which takes them from ``chunks``
    as workers free up; the kernels are compiled already); the number of chunks trained."""
    writer = PartWriter(out_dir)
    bar = tqdm(
        total=total,
        desc=name,
        unit="run",
        disable=quiet or not sys.stderr.isatty(),
        smoothing=0.1,
        dynamic_ncols=True,
    )
    done = 0
    n_chunks = 0
    results = None
    try:
        results = Parallel(return_as="generator_unordered", batch_size=1)(
            delayed(train_chunk)(chunk, record_every) for chunk in chunks
        )
        for tables in results:
            n_chunks += 1
            writer.add(tables)
            n = tables["runs"].num_rows
            done += n
            bar.update(n)
            if progress is not None:
                progress(done, total)
    except KeyboardInterrupt:
        close_quietly(results)
        raise
    except BrokenProcessPool as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SweepAborted(
            f"a worker process died ({reason}); the {done:,} runs finished by this start are "
            f"saved in {out_dir}: run the same command to go on"
        ) from error
    finally:
        writer.flush()
        bar.close()
    return n_chunks


def close_quietly(results) -> None:
    """Close joblib's result generator after a Ctrl-C without its warning that
    tasks were cancelled or left unread: the user cancelled them, and the one line
    the command prints says what was kept."""
    if results is None:
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*tasks .*(executed|cancelled)")
        results.close()
