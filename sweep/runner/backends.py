"""joblib's backends: ``threading`` (the default), ``loky``, and ``dask`` on a cluster; and
the checks of the ``--jobs``/``--backend``/``--scheduler`` settings."""

import contextlib
from collections.abc import Iterator

from joblib import effective_n_jobs, parallel_config

from sweep.errors import UserError
from sweep.grid import BACKENDS, SweepSpec

DEFAULT_BACKEND = "threading"


@contextlib.contextmanager
def joblib_backend(backend: str, scheduler: str | None, n_jobs: int) -> Iterator[int]:
    """Make ``backend`` joblib's backend for the block; yields the number of workers."""
    if backend != "dask":
        with parallel_config(backend=backend, n_jobs=n_jobs):
            yield effective_n_jobs(n_jobs)
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UserError(
            "--backend dask needs dask.distributed, which is not installed; "
            "pip install 'dask[distributed]' (or the tool's extra: pip install -e '.[dask]')"
        ) from None
    cluster = None
    if scheduler:
        try:
            # Dask's own connect timeout (distributed.comm.timeouts.connect, 30 s).
            client = Client(scheduler, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise UserError(
                f"cannot reach the dask scheduler at {scheduler} ({message}); "
                "give --scheduler the address it prints, e.g. tcp://10.0.0.5:8786"
            ) from None
    else:
        cluster = LocalCluster(
            n_workers=effective_n_jobs(n_jobs),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster, set_as_default=False)
    try:
        n_workers = max(1, sum(client.nthreads().values()))
        with parallel_config(backend="dask", client=client):
            yield n_workers
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def check_settings(
    spec: SweepSpec, n_jobs: int | None, backend: str | None, scheduler: str | None
) -> tuple[int, str, str | None]:
    """``(n_jobs, backend, scheduler)`` from the arguments over the grid's settings; UserError
    if one is invalid."""
    jobs = spec.n_jobs if n_jobs is None else n_jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0:
        raise UserError(
            f"--jobs must be a non-zero integer (joblib's meaning: -1 = all cores), got {jobs!r}"
        )
    name = backend or spec.backend or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise UserError(f"--backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    address = scheduler or (spec.scheduler if name == "dask" else None)
    if address and name != "dask":
        raise UserError(f"--scheduler needs --backend dask (the backend is {name!r})")
    return jobs, name, address
