"""One training run's configuration, and the table of what each field allows.

:data:`FIELDS` declares every :class:`RunConfig` field as data (type, allowed names or
interval, default, meaning). One validator (:meth:`Field.check`) reads it, the same
table words every error message, and :func:`reference_table` renders it for the README.
"""

import difflib
import math
from dataclasses import dataclass, fields
from typing import Any

from kernels import ACTIVATION_ALIASES, ACTIVATIONS, INITS, LOSSES, OPTIMIZERS, OUTPUT_ACTIVATIONS
from sweep.datasets import DATASETS

MAX_HIDDEN_LAYERS = 8
MAX_WIDTH = 1024


def suggest(name: str, options: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or an empty string."""
    close = difflib.get_close_matches(str(name), list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Field:
    """What one config field allows.

    ``kind`` is ``choice`` (one of ``choices``), ``int``, ``float``, ``bool`` or
    ``hidden`` (a list of layer widths); numbers must lie in ``[low, high]``, or in
    ``(low, high]`` when ``low_open``; ``optional`` fields also take None.
    """

    name: str
    kind: str
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    optional: bool = False

    def allowed(self) -> str:
        """The allowed values, in words (used by errors and the README)."""
        if self.kind == "choice":
            text = "one of " + ", ".join(repr(c) for c in self.choices)
            if self.aliases:
                text += " (" + ", ".join(f"{a!r} = {t!r}" for a, t in self.aliases) + ")"
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind == "hidden":
            text = (
                f"a list of 0 to {MAX_HIDDEN_LAYERS} layer widths, each an integer "
                f"from 1 to {MAX_WIDTH}"
            )
        else:
            noun = "an integer" if self.kind == "int" else "a number"
            low, high = _number_text(self.low, self.kind), _number_text(self.high, self.kind)
            if self.low is not None and self.high is not None:
                text = f"{noun} in {'(' if self.low_open else '['}{low}, {high}]"
            elif self.low is not None:
                text = f"{noun} {'>' if self.low_open else '>='} {low}"
            else:
                text = noun
        if self.optional:
            text += ", or unset (None)"
        return text

    def fail(self, value: Any, hint: str = "") -> ValueError:
        return ValueError(f"{self.name} must be {self.allowed()}, got {value!r}{hint}")

    def check(self, value: Any) -> Any:
        """The value normalised (aliases resolved, lists to tuples), or a ValueError."""
        if value is None:
            if self.optional:
                return None
            raise self.fail(value)
        if self.kind == "choice":
            if not isinstance(value, str):
                raise self.fail(value)
            value = dict(self.aliases).get(value, value)
            if value not in self.choices:
                raise self.fail(value, suggest(value, self.choices))
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise self.fail(value)
            return value
        if self.kind == "hidden":
            if isinstance(value, int) and not isinstance(value, bool):
                raise self.fail(value, " (write a list, e.g. [4, 4])")
            if not isinstance(value, list | tuple) or len(value) > MAX_HIDDEN_LAYERS:
                raise self.fail(value)
            if not all(
                isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= MAX_WIDTH
                for w in value
            ):
                raise self.fail(value)
            return tuple(int(w) for w in value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(value)
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise self.fail(value)
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise self.fail(value)
        too_low = self.low is not None and (
            value <= self.low if self.low_open else value < self.low
        )
        too_high = self.high is not None and value > self.high
        if too_low or too_high:
            raise self.fail(value)
        return value


def _number_text(value: float | None, kind: str) -> str:
    if value is None:
        return ""
    return f"{int(value):_}" if kind == "int" else f"{value:g}"


def _choice(name: str, table: dict[str, int], default: str, doc: str, **kw: Any) -> Field:
    return Field(name, "choice", default, doc, choices=tuple(table), **kw)


FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        _choice("dataset", dict.fromkeys(DATASETS, 0), "xor", "training set (see make_dataset)"),
        Field("hidden", "hidden", (4, 4), "width of each hidden layer; [] is no hidden layer"),
        _choice(
            "activation",
            ACTIVATIONS,
            "sigmoid",
            "activation of every hidden layer (leaky_relu slope 0.01)",
            aliases=tuple(ACTIVATION_ALIASES.items()),
        ),
        _choice("output_activation", OUTPUT_ACTIVATIONS, "sigmoid", "activation of the output"),
        _choice("loss", LOSSES, "mse", "mse, mae, or bce (from the logit; sigmoid output only)"),
        _choice("optimizer", OPTIMIZERS, "sgd", "update rule, torch.optim's defaults"),
        Field("lr", "float", 0.1, "learning rate", low=0.0, low_open=True),
        _choice("init", INITS, "normal", "weight init; biases start at 0"),
        Field("epochs", "int", 10_000, "maximum number of epochs", low=1, high=10_000_000),
        Field(
            "target_loss",
            "float",
            None,
            "convergence: first epoch whose loss is below this",
            low=0.0,
            low_open=True,
            optional=True,
        ),
        Field("stop_at_target", "bool", True, "stop training at the convergence epoch"),
        Field(
            "batch_size",
            "int",
            None,
            "samples per update; unset = full batch, 1 = online",
            low=1,
            optional=True,
        ),
        Field("shuffle", "bool", True, "reshuffle mini-batches every epoch (from seed)"),
        Field("bias", "bool", True, "layers have biases"),
        Field("seed", "int", 0, "seed of the weights and the shuffling", low=0, high=2**32 - 1),
        Field("data_seed", "int", 0, "seed of the data set", low=0, high=2**32 - 1),
        Field(
            "n",
            "int",
            None,
            "number of points; unset = the data set's default",
            low=2,
            high=1_000_000,
            optional=True,
        ),
        Field("noise", "float", 0.0, "std of Gaussian jitter on the inputs", low=0.0),
    ]
}


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run; validated and normalised on creation.

    A bad value raises ``ValueError`` naming the field and what it allows.
    ``activation="none"`` is stored as ``"identity"``, ``hidden`` as a tuple.
    """

    dataset: str = "xor"
    hidden: tuple[int, ...] = (4, 4)
    activation: str = "sigmoid"
    output_activation: str = "sigmoid"
    loss: str = "mse"
    optimizer: str = "sgd"
    lr: float = 0.1
    init: str = "normal"
    epochs: int = 10_000
    target_loss: float | None = None
    stop_at_target: bool = True
    batch_size: int | None = None
    shuffle: bool = True
    bias: bool = True
    seed: int = 0
    data_seed: int = 0
    n: int | None = None
    noise: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, FIELDS[f.name].check(getattr(self, f.name)))
        if self.loss == "bce" and self.output_activation != "sigmoid":
            raise ValueError(
                "loss 'bce' needs output_activation 'sigmoid' "
                f"(got output_activation {self.output_activation!r})"
            )
        _, default_n, sizable = DATASETS[self.dataset]
        if self.n is not None and not sizable:
            raise ValueError(
                f"n: dataset {self.dataset!r} has a fixed size of {default_n} points; leave n unset"
            )

    def to_dict(self) -> dict[str, Any]:
        """Field name -> value, ``hidden`` as a list (the shape TOML and Parquet use)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["hidden"] = list(self.hidden)
        return out

    @property
    def sizes(self) -> list[int]:
        """Layer widths, input to output: ``[2, *hidden, 1]``."""
        return [2, *self.hidden, 1]


def reference_table() -> str:
    """The Markdown table of every field, its default and what it allows (for the README)."""
    rows = ["| field | default | allowed | meaning |", "|---|---|---|---|"]
    for f in FIELDS.values():
        default = "unset" if f.default is None else repr(f.default)
        rows.append(f"| `{f.name}` | `{default}` | {f.allowed()} | {f.doc} |")
    return "\n".join(rows)
