"""What a grid file will run, as text for people (``sweep validate``)."""

from sweep.grid.keys import PSEUDO_FIELDS, SETTABLE
from sweep.grid.loading import SweepSpec
from sweep.grid.values import show_setting

SHOWN_DRAWS = 20  # the first drawn configurations `validate` lists


def _seeds_text(seeds: tuple[int, ...]) -> str:
    if seeds == tuple(range(len(seeds))) and len(seeds) > 2:
        return f"0..{len(seeds) - 1}"
    return ", ".join(str(s) for s in seeds)


def describe(spec: SweepSpec) -> str:
    """What a grid file will run, for ``sweep validate``: counts, seeds, axes, fixed values."""
    n_seeds = len(spec.seeds)
    lines = [f"sweep {spec.name!r} ({spec.path})"]
    if spec.description:
        lines.append(f"  {spec.description}")
    lines.append(
        f"runs: {len(spec.runs)} ({spec.n_configs} configs x {n_seeds} seed"
        f"{'s' if n_seeds != 1 else ''}; {spec.n_duplicates} duplicates removed)"
    )
    lines.append(f"seeds: {_seeds_text(spec.seeds)}")
    backend = spec.backend or "auto"
    if spec.scheduler:
        backend += f" at {spec.scheduler}"
    chunk = spec.chunk_size if spec.chunk_size is not None else "auto"
    lines.append(
        f"jobs: n_jobs={spec.n_jobs}, backend={backend}, chunk_size={chunk}, "
        f"record_every={spec.record_every}"
    )
    if spec.sampled is not None:
        sample = spec.sampled
        keys = [k for k in sample if k not in ("method", "n", "seed")]
        lines.append(
            f"sampled: {sample.get('method', 'random')}, {sample['n']} draws "
            f"(seed {sample.get('seed', 0)}) of {', '.join(keys)}"
        )
        for k, draw in enumerate(spec.draws[:SHOWN_DRAWS]):
            shown = ", ".join(f"{key}={show_setting(key, v)}" for key, v in draw.items())
            lines.append(f"  draw {k}: {shown}")
        if len(spec.draws) > SHOWN_DRAWS:
            lines.append(f"  ... {len(spec.draws) - SHOWN_DRAWS:,} more draws")
    lines.append("axes:" if spec.axes else "axes: none (one config)")
    for key, values in spec.axes.items():
        shown = ", ".join(show_setting(key, v) for v in values)
        lines.append(f"  {key} ({len(values)}): {shown}")
    lines.append("fixed:")
    settings = spec.values
    for key, values in settings.items():
        if key in spec.axes or len(values) != 1:
            continue
        if key in PSEUDO_FIELDS and len(settings["hidden"]) == 1:
            continue
        value = values[0]
        default = SETTABLE[key].default
        mark = (
            "  (default)"
            if value == (list(default) if isinstance(default, tuple) else default)
            else ""
        )
        lines.append(f"  {key} = {show_setting(key, value)}{mark}")
    return "\n".join(lines)
