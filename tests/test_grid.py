"""Grid files: the real files in grids/, expansion, and every mistake a user can make."""

import dataclasses
import itertools
import math
import re
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from sweep.config import RunConfig
from sweep.grid import MAX_RUNS, GridError, describe, load_grid, reference_table, run_id

ROOT = Path(__file__).parent.parent
GRIDS = sorted((ROOT / "grids").glob("*.toml"))


def write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def grid_error(tmp_path: Path, text: str, name: str = "study.toml") -> str:
    path = write(tmp_path, text, name)
    with pytest.raises(GridError) as info:
        load_grid(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


# --------------------------------------------------------------------------- grids/


def test_the_lab_has_every_study():
    names = {p.stem for p in GRIDS}
    assert names >= {
        "lr",
        "hidden",
        "activations",
        "init",
        "depth",
        "loss",
        "optimizer",
        "batch",
        "lab",
    }


@pytest.mark.parametrize("path", GRIDS, ids=[p.stem for p in GRIDS])
def test_every_grid_file_loads_and_says_what_it_runs(path: Path):
    spec = load_grid(path)
    assert spec.name == path.stem
    assert len(spec.seeds) >= 5
    assert spec.axes, "a study varies something"
    assert spec.n_duplicates == 0
    # The comment header says what question the file answers and how many runs it has.
    header = [line for line in spec.text.splitlines() if line.startswith("#")]
    assert spec.text.startswith("#") and "?" in " ".join(header)
    stated = [int(n.replace(" ", "")) for n in re.findall(r"(\d[\d ]*) runs", " ".join(header))]
    assert len(spec.runs) in stated
    text = describe(spec)
    assert f"runs: {len(spec.runs)} " in text


def test_lr_grid_is_the_documented_set_up_study():
    spec = load_grid(GRIDS[[p.stem for p in GRIDS].index("lr")])
    assert spec.seeds == tuple(range(10))
    assert spec.axes["dataset"] == ["linear", "xor"]
    assert spec.axes["lr"] == [
        0.001,
        0.00316227766017,
        0.01,
        0.0316227766017,
        0.1,
        0.316227766017,
        1.0,
        3.16227766017,
        10.0,
    ]
    assert {r.hidden for r in spec.runs} == {(4, 4)}
    assert {(r.epochs, r.target_loss) for r in spec.runs} == {(10_000, 0.005)}


def test_readme_lists_every_grid_file_with_its_run_count():
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(grids/\w+\.toml)` \|.*\| (\d+) \|$", readme, re.MULTILINE))
    assert set(rows) == {f"grids/{p.name}" for p in GRIDS}
    for path in GRIDS:
        assert int(rows[f"grids/{path.name}"]) == len(load_grid(path).runs), path.name


def test_readme_sweep_reference_is_generated_from_the_table():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- grid-reference:start -->\n")[1].split("<!-- grid-reference:end -->")[
        0
    ]
    assert block.strip() == reference_table()


def test_batch_grid_has_full_mini_and_online():
    spec = load_grid(GRIDS[[p.stem for p in GRIDS].index("batch")])
    assert spec.axes["batch_size"] == [None, 8, 1]


# --------------------------------------------------------------------------- expansion


def eager_runs(fixed: dict, grids: list[dict], seeds: tuple[int, ...]) -> list[RunConfig]:
    """The whole expansion as a list, the obvious way (validated configs, a set of
    those seen): what load_grid returned before it expanded lazily."""
    runs, seen = [], set()
    for grid in grids:
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            point = {**fixed, **dict(zip(keys, combo, strict=True))}
            width = point.pop("hidden_size", 4)
            depth = point.pop("hidden_layers", 2)
            if "hidden" not in point and (
                {"hidden_size", "hidden_layers"} & (set(grid) | set(fixed))
            ):
                point["hidden"] = (width,) * depth
            for seed in seeds:
                cfg = RunConfig(**point, seed=seed)
                if cfg not in seen:
                    seen.add(cfg)
                    runs.append(cfg)
    return runs


DUPLICATES = """
[sweep]
seeds = [5, 2]
[[grid]]
hidden_layers = [0, 1, 2]
hidden_size = [2, 4]
lr = [1, 0.5]
[[grid]]
hidden = [[], [4], [4, 4]]
lr = [0.5, 1.0, 2]
"""


@pytest.mark.parametrize("name", [p.stem for p in GRIDS] + ["duplicates"])
def test_lazy_runs_are_the_full_expansion_in_order(tmp_path: Path, name: str):
    path = (
        write(tmp_path, DUPLICATES)
        if name == "duplicates"
        else GRIDS[[p.stem for p in GRIDS].index(name)]
    )
    spec = load_grid(path)
    runs = spec.runs
    eager = eager_runs(runs.fixed, runs.grids, runs.seeds)
    lazy = list(runs)
    assert len(runs) == len(lazy) == len(eager)
    assert lazy == eager
    # Same values and the same types (1 and 1.0 are equal but give different run ids).
    assert [[(k, type(v), v) for k, v in vars(c).items()] for c in lazy] == [
        [(k, type(v), v) for k, v in vars(c).items()] for c in eager
    ]
    ids = [run_id(c) for c in eager]
    assert list(runs.ids()) == ids
    assert [(rid, c) for rid, c in runs.with_ids()] == list(zip(ids, eager, strict=True))
    assert [runs[i] for i in range(len(runs))] == eager
    assert runs[-1] == eager[-1] and runs[3:50:7] == eager[3:50:7]
    with pytest.raises(IndexError):
        runs[len(eager)]
    assert spec.n_configs == len({dataclasses.replace(c, seed=0) for c in eager})
    assert spec.n_duplicates == (
        sum(math.prod(len(v) for v in g.values()) for g in runs.grids) * len(runs.seeds)
        - len(eager)
    )


def test_duplicates_are_dropped_where_they_first_repeat(tmp_path: Path):
    spec = load_grid(write(tmp_path, DUPLICATES))
    points = [(r.hidden, r.lr) for r in spec.runs[::2]]
    # [[grid]] #1: with no hidden layer the two widths are one config (1 repeat per lr).
    first = [((), 1.0), ((), 0.5)] + [
        ((w,) * d, lr) for d in (1, 2) for w in (2, 4) for lr in (1.0, 0.5)
    ]
    # [[grid]] #2: only lr 2 is new; its six other points repeat [[grid]] #1's.
    assert points == first + [((), 2.0), ((4,), 2.0), ((4, 4), 2.0)]
    assert [r.seed for r in spec.runs[:4]] == [5, 2, 5, 2]
    assert spec.n_duplicates == 2 * (2 + 6) and spec.n_configs == 13


def test_a_big_grid_is_not_held_in_memory(tmp_path: Path):
    path = write(tmp_path, "[sweep]\nseeds = 50000\n[grid]\nlr = [0.1, 1.0, 10.0]\n")
    tracemalloc.start()
    try:
        spec = load_grid(path)
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert sum(1 for _ in spec.runs) == 150_000
        _, iterating = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A list of 150,000 RunConfigs takes ~45 MB; the spec holds the 50,000 seeds (~2 MB).
    assert held < 4 * 2**20 and iterating - held < 2**20
    assert len(spec.runs) == 150_000 and spec.n_configs == 3
    assert spec.runs[149_999] == RunConfig(lr=10.0, seed=49_999)
    assert spec.runs[50_000] == RunConfig(lr=1.0, seed=0)


def test_expansion_order_is_key_order_with_seeds_innermost(tmp_path: Path):
    spec = load_grid(
        write(
            tmp_path,
            """
            [sweep]
            name = "order"
            seeds = 3
            [fixed]
            epochs = 50
            [grid]
            lr = [0.5, 0.1]
            activation = ["relu", "tanh"]
            """,
        )
    )
    got = [(r.lr, r.activation, r.seed) for r in spec.runs]
    assert got == [
        (lr, act, seed) for lr in (0.5, 0.1) for act in ("relu", "tanh") for seed in (0, 1, 2)
    ]
    assert {r.epochs for r in spec.runs} == {50}
    assert spec.axes == {"lr": [0.1, 0.5], "activation": ["relu", "tanh"]}
    assert spec.n_duplicates == 0


def test_seed_list_keeps_its_order(tmp_path: Path):
    spec = load_grid(write(tmp_path, "[sweep]\nseeds = [7, 3, 11]\n[grid]\nlr = [1.0, 2.0]\n"))
    assert spec.seeds == (7, 3, 11)
    assert [r.seed for r in spec.runs] == [7, 3, 11, 7, 3, 11]


def test_sweep_settings_and_defaults(tmp_path: Path):
    spec = load_grid(write(tmp_path, "[fixed]\nlr = 1.0\n", name="quick-look.toml"))
    assert spec.name == "quick-look"
    assert spec.seeds == (0,)
    assert (spec.n_jobs, spec.backend, spec.scheduler) == (-1, None, None)
    assert (spec.record_every, spec.chunk_size, spec.description) == (1, None, "")
    text = """
        [sweep]
        name = "remote"
        description = "on the cluster"
        seeds = 4
        n_jobs = 2
        backend = "dask"
        scheduler = "tcp://10.0.0.5:8786"
        record_every = 25
        chunk_size = 16
        """
    spec = load_grid(write(tmp_path, text))
    assert spec.name == "remote" and spec.description == "on the cluster"
    assert (spec.n_jobs, spec.backend, spec.scheduler) == (2, "dask", "tcp://10.0.0.5:8786")
    assert (spec.record_every, spec.chunk_size) == (25, 16)
    assert spec.text == textwrap.dedent(text).lstrip()


def test_only_fixed_is_one_config_times_seeds(tmp_path: Path):
    spec = load_grid(write(tmp_path, '[sweep]\nseeds = 4\n[fixed]\nactivation = "tanh"\n[grid]\n'))
    assert [r.seed for r in spec.runs] == [0, 1, 2, 3]
    assert {r.activation for r in spec.runs} == {"tanh"}
    assert spec.axes == {}
    assert "axes: none" in describe(spec)


def test_fixed_values_and_defaults_reach_every_run(tmp_path: Path):
    spec = load_grid(
        write(
            tmp_path,
            """
            [fixed]
            dataset = "linear"
            n = 40
            noise = 0.1
            bias = false
            stop_at_target = false
            [grid]
            optimizer = ["adam", "sgd"]
            """,
        )
    )
    for run in spec.runs:
        assert (run.dataset, run.n, run.noise, run.bias, run.stop_at_target) == (
            "linear",
            40,
            0.1,
            False,
            False,
        )
        assert (run.init, run.hidden) == ("normal", (4, 4))  # RunConfig's defaults


def test_duplicates_are_removed_keeping_the_first(tmp_path: Path):
    spec = load_grid(
        write(
            tmp_path,
            """
            [sweep]
            seeds = 2
            [[grid]]
            lr = [0.1, 1.0]
            [[grid]]
            lr = [1.0, 3.0]
            activation = ["sigmoid", "tanh"]
            """,
        )
    )
    # grid 2 repeats (lr 1.0, sigmoid) from grid 1 for both seeds
    assert spec.n_duplicates == 2
    assert [(r.lr, r.activation, r.seed) for r in spec.runs] == [
        (0.1, "sigmoid", 0),
        (0.1, "sigmoid", 1),
        (1.0, "sigmoid", 0),
        (1.0, "sigmoid", 1),
        (1.0, "tanh", 0),
        (1.0, "tanh", 1),
        (3.0, "sigmoid", 0),
        (3.0, "sigmoid", 1),
        (3.0, "tanh", 0),
        (3.0, "tanh", 1),
    ]
    assert len({run_id(r) for r in spec.runs}) == len(spec.runs)
    assert "2 duplicates removed" in describe(spec)


def test_grid_tables_are_united_with_their_own_single_values(tmp_path: Path):
    spec = load_grid(
        write(
            tmp_path,
            """
            [fixed]
            epochs = 100
            [[grid]]
            loss = ["bce"]
            output_activation = ["sigmoid"]
            lr = [0.1, 1.0]
            [[grid]]
            loss = ["mse", "mae"]
            output_activation = ["sigmoid", "identity"]
            """,
        )
    )
    assert [(r.loss, r.output_activation, r.lr) for r in spec.runs] == [
        ("bce", "sigmoid", 0.1),
        ("bce", "sigmoid", 1.0),
        ("mse", "sigmoid", 0.1),  # lr from RunConfig's default
        ("mse", "identity", 0.1),
        ("mae", "sigmoid", 0.1),
        ("mae", "identity", 0.1),
    ]
    assert spec.axes == {
        "loss": ["bce", "mse", "mae"],
        "output_activation": ["sigmoid", "identity"],
        "lr": [0.1, 1.0],
    }


def test_hidden_size_and_hidden_layers_build_hidden(tmp_path: Path):
    width_only = load_grid(write(tmp_path, "[grid]\nhidden_size = [3, 5]\n"))
    assert [r.hidden for r in width_only.runs] == [(3, 3), (5, 5)]
    depth_only = load_grid(write(tmp_path, "[grid]\nhidden_layers = [0, 1, 3]\n"))
    assert [r.hidden for r in depth_only.runs] == [(), (4,), (4, 4, 4)]
    both = load_grid(write(tmp_path, "[fixed]\nhidden_layers = 3\n[grid]\nhidden_size = [2, 8]\n"))
    assert [r.hidden for r in both.runs] == [(2, 2, 2), (8, 8, 8)]
    assert both.axes == {"hidden_size": [2, 8]}
    assert "hidden_layers = 3" in describe(both)
    # no hidden layer: every width gives the same net, kept once
    zero = load_grid(write(tmp_path, "[grid]\nhidden_layers = [0, 2]\nhidden_size = [2, 4]\n"))
    assert [r.hidden for r in zero.runs] == [(), (2, 2), (4, 4)]
    assert zero.n_duplicates == 1
    explicit = load_grid(write(tmp_path, "[grid]\nhidden = [[4, 4], [10, 10, 10], []]\n"))
    assert [r.hidden for r in explicit.runs] == [(4, 4), (10, 10, 10), ()]
    assert explicit.axes == {"hidden": [[4, 4], [10, 10, 10], []]}


def test_range_shorthand(tmp_path: Path):
    spec = load_grid(
        write(
            tmp_path,
            """
            [grid]
            lr = { start = 1e-4, stop = 1, num = 5, log = true }
            noise = { start = 0, stop = 0.3, num = 4 }
            hidden_layers = { start = 0, stop = 4, num = 5 }
            hidden_size = { start = 1, stop = 64, num = 7, log = true }
            epochs = { start = 100, stop = 100, num = 1 }
            """,
        )
    )
    assert spec.axes["lr"] == [0.0001, 0.001, 0.01, 0.1, 1.0]
    assert spec.axes["noise"] == [0.0, 0.1, 0.2, 0.3]
    assert spec.axes["hidden_layers"] == [0, 1, 2, 3, 4]
    assert spec.axes["hidden_size"] == [1, 2, 4, 8, 16, 32, 64]
    assert all(isinstance(v, int) for v in spec.axes["hidden_size"])
    assert {r.epochs for r in spec.runs} == {100}
    # hidden_layers = 0 makes the 7 widths one net
    assert len(spec.runs) == 5 * 4 * (1 + 4 * 7)


def test_descending_range_keeps_its_order(tmp_path: Path):
    spec = load_grid(write(tmp_path, "[grid]\nlr = { start = 2, stop = 0.5, num = 4 }\n"))
    assert [r.lr for r in spec.runs] == [2.0, 1.5, 1.0, 0.5]


def test_unset_words_for_nullable_fields(tmp_path: Path):
    spec = load_grid(
        write(
            tmp_path,
            """
            [fixed]
            target_loss = "none"
            dataset = "linear"
            n = "none"
            [grid]
            batch_size = ["full", 8, 1]
            """,
        )
    )
    assert [r.batch_size for r in spec.runs] == [None, 8, 1]
    assert {(r.target_loss, r.n) for r in spec.runs} == {(None, None)}
    text = describe(spec)
    assert "batch_size (3): 'full', 8, 1" in text
    assert "target_loss = 'none'" in text
    spec = load_grid(
        write(tmp_path, '[grid]\ntarget_loss = ["none", 0.01]\nbatch_size = ["none"]\n')
    )
    assert [(r.target_loss, r.batch_size) for r in spec.runs] == [(None, None), (0.01, None)]


def test_activation_alias_none_is_identity(tmp_path: Path):
    spec = load_grid(write(tmp_path, '[grid]\nactivation = ["sigmoid", "none"]\n'))
    assert [r.activation for r in spec.runs] == ["sigmoid", "identity"]


def test_describe_names_everything(tmp_path: Path):
    spec = load_grid(
        write(
            tmp_path,
            """
            [sweep]
            name = "look"
            description = "what lr does"
            seeds = [1, 2]
            [fixed]
            epochs = 300
            [grid]
            lr = [0.1, 1.0]
            init = ["zeros", "he"]
            """,
        )
    )
    text = describe(spec)
    assert "'look'" in text and "what lr does" in text
    assert "runs: 8 (4 configs x 2 seeds; 0 duplicates removed)" in text
    assert "seeds: 1, 2" in text
    assert "lr (2): 0.1, 1.0" in text
    assert "init (2): 'zeros', 'he'" in text
    assert "epochs = 300\n" in text + "\n"
    assert "optimizer = 'sgd'  (default)" in text


def test_run_id_is_a_stable_hash_of_the_whole_config():
    cfg = RunConfig(dataset="xor", hidden=(4, 4), lr=1, target_loss=0.005, seed=3)
    same = RunConfig(dataset="xor", hidden=[4, 4], lr=1.0, target_loss=0.005, seed=3)
    assert run_id(cfg) == run_id(same)
    assert re.fullmatch(r"[0-9a-f]{16}", run_id(cfg))
    assert run_id(cfg) != run_id(RunConfig(dataset="xor", lr=1.0, target_loss=0.005, seed=4))
    assert run_id(cfg) != run_id(RunConfig(dataset="xor", lr=1.0, target_loss=0.006, seed=3))
    # the same in another process (no per-process hash salt) and in later versions
    code = (
        "from sweep.config import RunConfig; from sweep.grid import run_id; "
        "print(run_id(RunConfig(dataset='xor', hidden=(4, 4), lr=1, target_loss=0.005, seed=3)))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == run_id(cfg)
    assert run_id(RunConfig()) == "052939d5de283353"


# --------------------------------------------------------------------------- files


def test_missing_file(tmp_path: Path):
    path = tmp_path / "nope.toml"
    with pytest.raises(GridError, match=r"nope\.toml: no such file; give the path of a grid"):
        load_grid(path)


def test_directory_instead_of_a_file(tmp_path: Path):
    write(tmp_path, "[fixed]\n", name="a.toml")
    with pytest.raises(GridError) as info:
        load_grid(tmp_path)
    expected = "is a directory, not a file; give one of its files: a.toml"
    assert str(info.value) == f"{tmp_path}: {expected}"


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path):
    message = grid_error(tmp_path, '[grid]\nlr = [0.1, 1.0]\nactivation = "relu\n')
    assert "line 3, column " in message
    assert "TOML syntax error" in message
    assert 'activation = "relu' in message
    message = grid_error(tmp_path, "[fixed]\nlr = 0.1\nlr = 0.2\n")
    assert "line 3, column" in message and "Cannot overwrite a value" in message


LEFT_OPEN = {
    # case: (grid file, where the message says it opens, what it says to do)
    "array at the end of the file": (
        "[sweep]\nseeds = 5\n[grid]\nlr = [0.1,\n      1.0,\n",
        "line 4, column 6 (lr = [0.1,)",
        "unclosed array '[' opened here; close it with ']'",
    ),
    "array before the next table": (
        "[grid]\nlr = [0.1,\n  1.0,\n\n[fixed]\nepochs = 3\n",
        "line 2, column 6 (lr = [0.1,)",
        "unclosed array '[' opened here; close it with ']'",
    ),
    "inner array of hidden": (
        "[grid]\nlr = [0.1]\nhidden = [[4, 4], [8,\n",
        "line 3, column 19 (hidden = [[4, 4], [8,)",
        "unclosed array '[' opened here; close it with ']'",
    ),
    "array closed by a brace": (
        "[grid]\nlr = {start = [1, 2}\n",
        "line 2, column 15",
        "unclosed array '[' opened here",
    ),
    "inline table": (
        "[sweep]\nseeds = 5\n[grid]\nlr = {start = 0.1, stop = 1.0,\nnum = 3}\n",
        "line 4, column 6 (lr = {start = 0.1, stop = 1.0,)",
        "unclosed inline table '{' opened here; close it with '}' on the same line",
    ),
    "string": (
        '[sweep]\nname = "lab\nseeds = 5\n',
        'line 2, column 8 (name = "lab)',
        "unclosed string '\"' opened here; close it with '\"' on the same line",
    ),
    "literal string on the last line": (
        "[sweep]\nseeds = 5\nname = 'lab",
        "line 3, column 8 (name = 'lab)",
        'unclosed literal string "\'" opened here; close it with "\'" on the same line',
    ),
    "multi-line string": (
        '[sweep]\ndescription = """the learning rate\nstudy\n\n[grid]\nlr = [0.1]\n',
        "line 2, column 15",
        'unclosed multi-line string \'"""\' opened here; close it with \'"""\'',
    ),
    "multi-line literal string": (
        "[sweep]\nseeds = 5\ndescription = '''the learning rate\n",
        "line 3, column 15",
        "unclosed multi-line literal string \"'''\" opened here; close it with \"'''\"",
    ),
    "table header": (
        "[sweep]\nseeds = 5\n[grid\n",
        "line 3, column 1 ([grid)",
        "unclosed table header '[' opened here; close it with ']' on the same line",
    ),
}


@pytest.mark.parametrize("case", LEFT_OPEN, ids=list(LEFT_OPEN))
def test_a_construct_left_open_is_named_where_it_opens(tmp_path: Path, case: str):
    text, where, what = LEFT_OPEN[case]
    message = grid_error(tmp_path, text)
    assert f": {where}" in message
    assert f": TOML syntax error: {what}" in message
    assert "end of file" not in message


def test_any_syntax_error_at_the_end_of_the_file_names_its_last_line(tmp_path: Path):
    message = grid_error(tmp_path, "[sweep]\nseeds = 5\nname =")
    assert ": line 3 (name =): TOML syntax error: Invalid value at the end of the file" in message
    # A construct left open after the error is not blamed for it.
    message = grid_error(tmp_path, "[sweep]\nseeds = = 5\nname = 'lab\n")
    assert ": line 2, column 9 (seeds = = 5): TOML syntax error: Invalid value;" in message


def test_empty_file(tmp_path: Path):
    message = grid_error(tmp_path, "# nothing yet\n")
    assert "the file is empty" in message and "[sweep], [fixed], [grid] and [sample]" in message


def test_not_utf8(tmp_path: Path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[sweep]\ndescription = "caf\xe9"\n')
    with pytest.raises(GridError, match="not UTF-8 text"):
        load_grid(path)


def test_too_many_runs(tmp_path: Path):
    message = grid_error(
        tmp_path,
        """
        [sweep]
        seeds = 1000
        [grid]
        lr = { start = 0.001, stop = 1, num = 1000 }
        """,
    )
    assert "1_000_000 runs" in message and f"at most {MAX_RUNS:_}" in message


# --------------------------------------------------------------------------- mistakes

# (file text, substrings the one-line message must contain)
BAD = {
    "unknown table": (
        "[fixd]\nlr = 1.0\n",
        ["[fixd] (line 1)", "did you mean 'fixed'?", "[sweep], [fixed], [grid]"],
    ),
    "key outside a table": (
        "lr = 1.0\n[fixed]\nepochs = 5\n",
        ["lr (line 1): lr is outside any table", "put it under [fixed]"],
    ),
    "unknown sweep key": (
        '[sweep]\nnmae = "x"\n',
        ["[sweep] nmae (line 2)", "did you mean 'name'?", "name, description, seeds, n_jobs"],
    ),
    "run setting in sweep": (
        "[sweep]\nseeds = 2\nlr = 0.1\n",
        ["[sweep] lr (line 3)", "a run setting", "[fixed]", "[grid]"],
    ),
    "unknown field in fixed": (
        "[fixed]\nepochs = 5\nlrr = 0.1\n",
        ["[fixed] lrr (line 3)", "unknown field 'lrr' (did you mean 'lr'?)", "hidden_size"],
    ),
    "unknown field in grid": (
        "[grid]\nactivatoin = ['relu']\n",
        ["[grid] activatoin (line 2)", "(did you mean 'activation'?)", "allowed: dataset,"],
    ),
    "seed in fixed": (
        "[fixed]\nseed = 3\n",
        ["[fixed] seed (line 2)", "[sweep] seeds"],
    ),
    "sweep key in grid": (
        "[grid]\nn_jobs = [2]\n",
        ["[grid] n_jobs (line 2)", "a sweep setting", "under [sweep]"],
    ),
    "bad choice in fixed": (
        '[fixed]\nactivation = "sigmod"\n',
        [
            "[fixed] activation (line 2)",
            "got 'sigmod' (did you mean 'sigmoid'?)",
            "one of 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'identity'",
        ],
    ),
    "bad choice in grid": (
        '[grid]\nlr = [1.0]\nactivation = ["tanh", "sigmod"]\n',
        ["[grid] activation (line 3)", "did you mean 'sigmoid'?", "'leaky_relu'"],
    ),
    "lr zero": ("[fixed]\nlr = 0\n", ["[fixed] lr (line 2)", "got 0", "a number > 0"]),
    "lr negative in grid": (
        "[grid]\nlr = [0.1, -1.0]\n",
        ["[grid] lr (line 2)", "got -1.0", "a number > 0"],
    ),
    "hidden width 0": (
        "[fixed]\nhidden = [4, 0]\n",
        ["[fixed] hidden (line 2)", "got [4, 0]", "each an integer from 1 to 1024"],
    ),
    "too many layers": (
        "[fixed]\nhidden = [2, 2, 2, 2, 2, 2, 2, 2, 2]\n",
        ["[fixed] hidden (line 2)", "a list of 0 to 8 layer widths"],
    ),
    "hidden_layers too many": (
        "[grid]\nhidden_layers = [1, 9]\n",
        ["[grid] hidden_layers (line 2)", "got 9", "an integer in [0, 8]"],
    ),
    "hidden_size 0": (
        "[grid]\nhidden_size = [0, 4]\n",
        ["[grid] hidden_size (line 2)", "got 0", "an integer in [1, 1_024]"],
    ),
    "hidden axis not a list of lists": (
        "[grid]\nhidden = [4, 4]\n",
        ["[grid] hidden (line 2)", "a list of layer lists", "hidden = [[4, 4]]"],
    ),
    "empty axis": (
        "[grid]\nlr = []\n",
        ["[grid] lr (line 2)", "an empty axis", "at least one value"],
    ),
    "empty hidden axis": (
        "[grid]\nhidden = []\n",
        ["[grid] hidden (line 2)", "an empty axis", "hidden = [[]]"],
    ),
    "axis not a list": (
        "[grid]\nlr = 0.1\n",
        ["[grid] lr (line 2)", "an axis must be a list, got 0.1", "write lr = [0.1]"],
    ),
    "value listed twice": (
        '[grid]\nactivation = ["identity", "none"]\n',
        ["[grid] activation (line 2)", "'identity' is listed twice", "distinct values"],
    ),
    "list in fixed": (
        "[fixed]\nlr = [0.1, 1.0]\n",
        ["[fixed] lr (line 2)", "a list [0.1, 1.0] in [fixed]", "put lists of values in [grid]"],
    ),
    "string for epochs": (
        '[fixed]\nepochs = "1000"\n',
        ["[fixed] epochs (line 2)", "got '1000' (a string", "an integer in [1, 10_000_000]"],
    ),
    "bool for int": (
        "[grid]\nepochs = [100, true]\n",
        ["[grid] epochs (line 2)", "got true (a boolean)", "an integer in [1, 10_000_000]"],
    ),
    "fractional int": (
        "[fixed]\nepochs = 10.5\n",
        ["[fixed] epochs (line 2)", "got 10.5", "an integer"],
    ),
    "number for a choice": (
        "[fixed]\ninit = 0\n",
        ["[fixed] init (line 2)", "got 0", "one of 'normal', 'uniform', 'xavier', 'he', 'zeros'"],
    ),
    "string for bool": (
        '[fixed]\nshuffle = "yes"\n',
        ["[fixed] shuffle (line 2)", "got 'yes'", "true or false"],
    ),
    "bad unset word": (
        '[fixed]\nbatch_size = "fulll"\n',
        ["[fixed] batch_size (line 2)", "did you mean 'full'?", "or 'full' or 'none'"],
    ),
    "seeds zero": ("[sweep]\nseeds = 0\n", ["[sweep] seeds (line 2)", "got 0", "n in [1, "]),
    "seeds huge": ("[sweep]\nseeds = 4_294_967_296\n", ["[sweep] seeds (line 2)", "500_000]"]),
    "seeds negative": ("[sweep]\nseeds = -2\n", ["[sweep] seeds (line 2)", "got -2"]),
    "seeds not an int": (
        "[sweep]\nseeds = 2.5\n",
        ["[sweep] seeds (line 2)", "got 2.5", "an integer n in [1, 500_000] (seeds 0..n-1)"],
    ),
    "seeds string": ('[sweep]\nseeds = "10"\n', ["[sweep] seeds (line 2)", "got '10'"]),
    "seeds bool": ("[sweep]\nseeds = true\n", ["[sweep] seeds (line 2)", "got true"]),
    "seeds empty list": ("[sweep]\nseeds = []\n", ["[sweep] seeds (line 2)", "non-empty list"]),
    "seeds negative in list": (
        "[sweep]\nseeds = [0, -1]\n",
        ["[sweep] seeds (line 2)", "got [0, -1]", "[0, 4_294_967_295]"],
    ),
    "seeds repeated": (
        "[sweep]\nseeds = [1, 2, 1]\n",
        ["[sweep] seeds (line 2)", "seed 1 twice", "distinct integers"],
    ),
    "name with slash": (
        '[sweep]\nname = "runs/lr"\n',
        ["[sweep] name (line 2)", "got 'runs/lr' (a path separator)", "a folder name"],
    ),
    "name with backslash": (
        '[sweep]\nname = "runs\\\\lr"\n',
        ["[sweep] name (line 2)", "(a path separator)"],
    ),
    "name empty": ('[sweep]\nname = ""\n', ["[sweep] name (line 2)", "got '' (empty)"]),
    "name dot dot": ('[sweep]\nname = ".."\n', ["[sweep] name (line 2)", "got '..'"]),
    "name not a string": ("[sweep]\nname = 3\n", ["[sweep] name (line 2)", "got 3"]),
    "fixed and axis": (
        "[fixed]\nlr = 1.0\n[grid]\nlr = [0.1, 1.0]\n",
        ["[grid] lr (line 4)", "both an axis here and fixed in [fixed] lr (line 2)", "one place"],
    ),
    "fixed and axis in second grid": (
        "[fixed]\nlr = 1.0\n[[grid]]\ninit = ['he']\n[[grid]]\nlr = [0.1]\n",
        ["[[grid]] #2 lr (line 6)", "fixed in [fixed] lr (line 2)"],
    ),
    "hidden with hidden_size": (
        "[fixed]\nhidden = [4, 4]\n[grid]\nhidden_size = [2, 8]\n",
        [
            "[fixed] hidden (line 2)",
            "together with hidden_size ([grid] hidden_size (line 4))",
            "either hidden",
        ],
    ),
    "hidden with hidden_layers in one grid": (
        "[grid]\nhidden = [[4]]\nhidden_layers = [1, 2]\n",
        ["[grid] hidden (line 2)", "hidden_layers ([grid] hidden_layers (line 3))"],
    ),
    "range num 0": (
        "[grid]\nlr = { start = 0.1, stop = 1, num = 0 }\n",
        ["[grid] lr (line 2)", "range num is 0", "an integer in [1, 500_000]"],
    ),
    "range num huge": (
        "[grid]\nlr = { start = 0.1, stop = 1, num = 1_000_000_000 }\n",
        ["[grid] lr (line 2)", "range num is 1000000000", "an integer in [1, 500_000]"],
    ),
    "range log from 0": (
        "[grid]\nlr = { start = 0, stop = 1, num = 3, log = true }\n",
        ["[grid] lr (line 2)", "a log range from 0 to 1", "start > 0 and stop > 0"],
    ),
    "range unknown key": (
        "[grid]\nlr = { start = 0.1, stop = 1, num = 3, lgo = true }\n",
        ["[grid] lr (line 2)", "unknown range key 'lgo' (did you mean 'log'?)", "start = .."],
    ),
    "range missing stop": (
        "[grid]\nlr = { start = 0.1, num = 3 }\n",
        ["[grid] lr (line 2)", "range without stop", "{start = .., stop = .., num = .."],
    ),
    "range start not a number": (
        '[grid]\nlr = { start = "a", stop = 1, num = 3 }\n',
        ["[grid] lr (line 2)", "range start is 'a'", "a finite number"],
    ),
    "range log not a bool": (
        "[grid]\nlr = { start = 0.1, stop = 1, num = 3, log = 1 }\n",
        ["[grid] lr (line 2)", "range log is 1", "true or false"],
    ),
    "range of a choice": (
        "[grid]\ninit = { start = 1, stop = 2, num = 2 }\n",
        ["[grid] init (line 2)", "non-numeric field", "a list of values"],
    ),
    "range of non-integers for an int": (
        "[grid]\nhidden_size = { start = 1, stop = 100, num = 5, log = true }\n",
        ["[grid] hidden_size (line 2)", "non-integer values [3.16227766017", "or a list"],
    ),
    "range value out of bounds": (
        "[grid]\nlr = { start = 0, stop = 1, num = 3 }\n",
        ["[grid] lr (line 2)", "got 0.0", "a number > 0"],
    ),
    "range in fixed": (
        "[fixed]\nlr = { start = 0.1, stop = 1, num = 3 }\n",
        ["[fixed] lr (line 2)", "a range in [fixed]", "put ranges in [grid]"],
    ),
    "bce with identity output": (
        "[grid]\nloss = ['mse', 'bce']\noutput_activation = ['sigmoid', 'identity']\n",
        [
            "[grid] loss (line 2) with [grid] output_activation (line 3)",
            "the combination loss = 'bce', output_activation = 'identity' cannot run",
            "needs output_activation 'sigmoid'",
            "separate [[grid]] tables",
        ],
    ),
    "bce with fixed identity output": (
        "[fixed]\noutput_activation = 'identity'\n[[grid]]\nloss = ['bce']\n",
        ["[[grid]] #1 loss (line 4) with [fixed] output_activation (line 2)"],
    ),
    "n for xor": (
        "[fixed]\nn = 50\n",
        [
            "[fixed] n (line 2) with dataset (default)",
            "n = 50, dataset = 'xor'",
            "fixed size of 21 points",
        ],
    ),
    "n for xor in a grid": (
        "[fixed]\nn = 50\n[grid]\ndataset = ['linear', 'xor']\n",
        ["[fixed] n (line 2) with [grid] dataset (line 4)"],
    ),
    "n_jobs zero": (
        "[sweep]\nn_jobs = 0\n",
        ["[sweep] n_jobs (line 2)", "got 0", "a non-zero integer, joblib's meaning"],
    ),
    "n_jobs float": ("[sweep]\nn_jobs = 1.5\n", ["[sweep] n_jobs (line 2)", "got 1.5"]),
    "backend unknown": (
        '[sweep]\nbackend = "lokky"\n',
        ["[sweep] backend (line 2)", "did you mean 'loky'?", "'loky', 'threading', 'dask'"],
    ),
    "scheduler without dask": (
        '[sweep]\nscheduler = "tcp://10.0.0.5:8786"\n',
        ["[sweep] scheduler (line 2)", "without a backend", "backend = 'dask'"],
    ),
    "scheduler with loky": (
        '[sweep]\nbackend = "loky"\nscheduler = "tcp://10.0.0.5:8786"\n',
        ["[sweep] scheduler (line 3)", "with backend 'loky'", "backend = 'dask'"],
    ),
    "scheduler not an address": (
        '[sweep]\nbackend = "dask"\nscheduler = ""\n',
        ["[sweep] scheduler (line 3)", "got ''", "a dask scheduler address"],
    ),
    "record_every zero": (
        "[sweep]\nrecord_every = 0\n",
        ["[sweep] record_every (line 2)", "got 0", "an integer >= 1"],
    ),
    "chunk_size zero": (
        "[sweep]\nchunk_size = 0\n",
        ["[sweep] chunk_size (line 2)", "got 0", "an integer >= 1"],
    ),
    "description not a string": (
        "[sweep]\ndescription = 3\n",
        ["[sweep] description (line 2)", "got 3", "a string"],
    ),
    "sweep as array": ("[[sweep]]\nseeds = 2\n", ["[sweep] (line 1)", "an array of tables"]),
    "grid as a value": ("grid = 3\n", ["grid", "grid = 3", "[[grid]] tables"]),
    "line after multi-line values": (
        '[sweep]\ndescription = """\n[grid]\nlr = 1\n"""\n[grid]\nhidden = [\n  [4, 4],\n  [2]\n]\n'
        "activation = ['relu']\ninit = ['zero']\n",
        ["[grid] init (line 12)", "got 'zero' (did you mean 'zeros'?)"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_file(tmp_path: Path, case: str):
    text, parts = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(GridError) as info:
        load_grid(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert ";" in message  # what is wrong; what is allowed
    for part in parts:
        assert part in message


def test_name_from_an_unusable_file_name(tmp_path: Path):
    message = grid_error(tmp_path, "[fixed]\nlr = 1.0\n", name="my study.toml")
    assert "[sweep] name: not given, and the file name 'my study' is not a valid" in message


def test_errors_are_found_before_expansion_in_any_table_order(tmp_path: Path):
    # the mistake is in [sweep], written after a grid that expands fine
    message = grid_error(tmp_path, "[grid]\nlr = [0.1, 1.0]\n[sweep]\nrecord_every = 0\n")
    assert "[sweep] record_every (line 4)" in message
