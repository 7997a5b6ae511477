"""RunConfig validation: every bad value is a one-line ValueError naming the field and
what it allows; good values are normalised (aliases, lists to tuples, int/float)."""

import dataclasses
import math
from typing import Any

import pytest

from sweep import FIELDS, RunConfig
from sweep.config import reference_table, suggest

BAD: list[tuple[dict[str, Any], list[str]]] = [
    # unknown names, with a suggestion when one is close
    (
        {"activation": "sigmoud"},
        ["activation must be one of", "'sigmoid'", "'leaky_relu'", "did you mean 'sigmoid'?"],
    ),
    ({"dataset": "xr"}, ["dataset must be one of", "'linear'", "'xor'", "did you mean 'xor'?"]),
    ({"optimizer": "Adam"}, ["optimizer must be one of", "'rmsprop'", "did you mean 'adam'?"]),
    ({"loss": "cross_entropy"}, ["loss must be one of", "'mse'", "'mae'", "'bce'"]),
    ({"init": "glorot"}, ["init must be one of", "'xavier'", "'zeros'"]),
    ({"output_activation": "tanh"}, ["output_activation must be one of 'sigmoid', 'identity'"]),
    ({"activation": 1}, ["activation must be one of"]),
    # numbers out of range, or not numbers
    ({"lr": 0}, ["lr must be a number > 0"]),
    ({"lr": -0.5}, ["lr must be a number > 0", "-0.5"]),
    ({"lr": math.nan}, ["lr must be a number > 0", "nan"]),
    ({"lr": math.inf}, ["lr must be a number > 0"]),
    ({"lr": "0.1"}, ["lr must be a number > 0", "'0.1'"]),
    ({"lr": None}, ["lr must be a number > 0"]),
    ({"epochs": 0}, ["epochs must be an integer in [1, 10_000_000]"]),
    ({"epochs": 10**8}, ["epochs must be an integer in [1, 10_000_000]"]),
    ({"epochs": 10.5}, ["epochs must be an integer", "10.5"]),
    ({"target_loss": 0}, ["target_loss must be a number > 0, or unset (None)"]),
    ({"batch_size": 0}, ["batch_size must be an integer >= 1, or unset (None)"]),
    ({"seed": -1}, ["seed must be an integer in [0, 4_294_967_295]"]),
    ({"seed": 2**32}, ["seed must be an integer in [0, 4_294_967_295]"]),
    ({"data_seed": -3}, ["data_seed must be an integer in [0, 4_294_967_295]"]),
    ({"noise": -0.1}, ["noise must be a number >= 0"]),
    ({"dataset": "linear", "n": 1}, ["n must be an integer in [2, 1_000_000], or unset"]),
    # a bool is not a number, a number is not a bool
    ({"epochs": True}, ["epochs must be an integer", "True"]),
    ({"seed": False}, ["seed must be an integer"]),
    ({"lr": True}, ["lr must be a number > 0"]),
    ({"shuffle": 1}, ["shuffle must be true or false", "got 1"]),
    ({"bias": "yes"}, ["bias must be true or false"]),
    ({"stop_at_target": None}, ["stop_at_target must be true or false"]),
    # hidden layers
    ({"hidden": [0]}, ["hidden must be a list of 0 to 8 layer widths", "from 1 to 1024"]),
    ({"hidden": [4, 2000]}, ["hidden must be", "from 1 to 1024", "2000"]),
    ({"hidden": [4] * 9}, ["hidden must be a list of 0 to 8 layer widths"]),
    ({"hidden": 4}, ["hidden must be", "(write a list, e.g. [4, 4])"]),
    ({"hidden": [True, 4]}, ["hidden must be"]),
    ({"hidden": [2.5]}, ["hidden must be"]),
    ({"hidden": "4,4"}, ["hidden must be"]),
    # combinations
    (
        {"loss": "bce", "output_activation": "identity"},
        ["loss 'bce' needs output_activation 'sigmoid'", "'identity'"],
    ),
    ({"dataset": "xor", "n": 50}, ["n:", "'xor'", "21", "leave n unset"]),
]


@pytest.mark.parametrize(("kwargs", "words"), BAD, ids=[str(k) for k, _ in BAD])
def test_bad_values_name_the_field_and_what_it_allows(
    kwargs: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(ValueError) as err:
        RunConfig(**kwargs)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_an_unknown_field_is_not_accepted() -> None:
    with pytest.raises(TypeError, match="activaton"):
        RunConfig(activaton="relu")  # type: ignore[call-arg]
    assert suggest("activaton", list(FIELDS)) == " (did you mean 'activation'?)"
    assert suggest("zzz", list(FIELDS)) == ""


def test_none_is_identity() -> None:
    cfg = RunConfig(activation="none")
    assert cfg.activation == "identity"
    assert cfg == RunConfig(activation="identity")
    with pytest.raises(ValueError, match="output_activation"):
        RunConfig(output_activation="none")  # the alias is for hidden layers only


def test_values_are_normalised() -> None:
    cfg = RunConfig(hidden=[8, 3], lr=1, epochs=200.0, target_loss=1, noise=0)
    assert cfg.hidden == (8, 3) and isinstance(cfg.hidden, tuple)
    assert cfg.sizes == [2, 8, 3, 1]
    assert isinstance(cfg.lr, float) and cfg.lr == 1.0
    assert isinstance(cfg.epochs, int) and cfg.epochs == 200
    assert isinstance(cfg.target_loss, float)
    assert isinstance(cfg.noise, float)
    assert cfg == RunConfig(hidden=(8, 3), lr=1.0, epochs=200, target_loss=1.0, noise=0.0)
    assert hash(cfg) == hash(RunConfig(hidden=(8, 3), lr=1.0, epochs=200, target_loss=1.0))
    assert RunConfig(hidden=[]).sizes == [2, 1]
    d = cfg.to_dict()
    assert d["hidden"] == [8, 3] and isinstance(d["hidden"], list)
    assert list(d) == [f.name for f in dataclasses.fields(RunConfig)]
    assert RunConfig(**d) == cfg


def test_limits_are_inclusive_where_documented() -> None:
    cfg = RunConfig(
        dataset="linear",
        hidden=[1024] * 8,
        epochs=10_000_000,
        seed=2**32 - 1,
        data_seed=0,
        n=2,
        batch_size=1,
    )
    assert cfg.hidden == (1024,) * 8 and cfg.seed == 2**32 - 1 and cfg.n == 2


def test_a_config_is_frozen() -> None:
    cfg = RunConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 0.5  # type: ignore[misc]


def test_the_field_table_matches_the_dataclass() -> None:
    names = [f.name for f in dataclasses.fields(RunConfig)]
    assert list(FIELDS) == names
    defaults = RunConfig()
    for f in dataclasses.fields(RunConfig):
        assert FIELDS[f.name].default == getattr(defaults, f.name)
        assert FIELDS[f.name].check(FIELDS[f.name].default) == getattr(defaults, f.name)
    table = reference_table()
    for name, field in FIELDS.items():
        assert f"| `{name}` |" in table
        assert field.allowed() in table
