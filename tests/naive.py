"""A slow, obvious float64 NumPy twin of :func:`kernels.train.train`: the tests' reference.

Written from the formulas, not from the kernels: whole matrices, one sample per row,

    z_l = a_{l-1} @ W_l + b_l,   a_l = f(z_l),
    dL/dW_l = a_{l-1}.T @ delta_l,   dL/db_l = sum over samples of delta_l,
    delta_{l-1} = (delta_l @ W_l.T) * f'(z_{l-1}),

with the derivatives written in terms of ``z``. Conventions (those of the kernels):

- hidden activations sigmoid, tanh, relu, leaky_relu (slope 0.01; derivative 1 for
  z > 0, else 0.01), identity (alias none); output sigmoid or identity;
- losses ``mse`` = mean((yhat - y)^2), ``mae`` = mean(|yhat - y|) (gradient sign, 0 at 0),
  ``bce`` = mean(softplus(z) - y z) from the output logit z, gradient (sigmoid(z) - y)/N
  at the logit;
- optimizers with torch.optim's rules and default constants (see :class:`Optimizer`);
- ``loss[e]``/``accuracy[e]`` score the whole set with the weights at the start of epoch
  ``e``; a run stops at the first non-finite loss (diverged) or, with ``stop_at_target``,
  at the first loss below ``target_loss``, without that epoch's update.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Params = list[tuple[np.ndarray, np.ndarray]]
LEAKY_SLOPE = 0.01


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _sigmoid_prime(z: np.ndarray) -> np.ndarray:
    s = sigmoid(z)
    return s * (1.0 - s)


# name -> (f, f') with f' a function of z
FUNCTIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]]
FUNCTIONS = {
    "sigmoid": (sigmoid, _sigmoid_prime),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.where(z > 0, z, 0.0), lambda z: np.where(z > 0, 1.0, 0.0)),
    "leaky_relu": (
        lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
        lambda z: np.where(z > 0, 1.0, LEAKY_SLOPE),
    ),
    "identity": (lambda z: z, np.ones_like),
}
FUNCTIONS["none"] = FUNCTIONS["identity"]


def forward(
    x: np.ndarray, params: Params, activation: str, output_activation: str
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre-activations ``zs`` and activations ``acts`` (``acts[0] = x``) of every layer."""
    zs: list[np.ndarray] = []
    acts = [x]
    for k, (w, b) in enumerate(params):
        f = FUNCTIONS[output_activation if k == len(params) - 1 else activation][0]
        z = acts[-1] @ w + b
        zs.append(z)
        acts.append(f(z))
    return zs, acts


def loss_value(loss: str, z: np.ndarray, yhat: np.ndarray, y: np.ndarray) -> float:
    """The loss of outputs ``yhat`` (logits ``z``) against targets ``y``, all ``(n, 1)``."""
    if loss == "mse":
        return float(np.mean((yhat - y) ** 2))
    if loss == "mae":
        return float(np.mean(np.abs(yhat - y)))
    if loss == "bce":
        return float(np.mean(np.logaddexp(0.0, z) - y * z))
    raise ValueError(loss)


def output_delta(
    loss: str, output_activation: str, z: np.ndarray, yhat: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """dLoss/dz at the output logit."""
    n = y.shape[0]
    if loss == "bce":
        return (sigmoid(z) - y) / n
    if loss == "mse":
        dyhat = 2.0 * (yhat - y) / n
    elif loss == "mae":
        dyhat = np.sign(yhat - y) / n
    else:
        raise ValueError(loss)
    return dyhat * FUNCTIONS[output_activation][1](z)


def score(
    x: np.ndarray, y: np.ndarray, params: Params, activation: str, output_activation: str, loss: str
) -> tuple[float, float]:
    """``(loss, accuracy)`` on ``(x, y)``; an output > 0.5 is class 1."""
    with np.errstate(all="ignore"):
        zs, acts = forward(x, params, activation, output_activation)
        value = loss_value(loss, zs[-1], acts[-1], y)
        accuracy = float(np.mean((acts[-1] > 0.5) == (y > 0.5)))
    return value, accuracy


def gradients(
    x: np.ndarray, y: np.ndarray, params: Params, activation: str, output_activation: str, loss: str
) -> Params:
    """``[(dW, db), ...]`` of the mean loss over the rows of ``x``."""
    zs, acts = forward(x, params, activation, output_activation)
    delta = output_delta(loss, output_activation, zs[-1], acts[-1], y)
    grads: Params = []
    for k in range(len(params) - 1, -1, -1):
        grads.append((acts[k].T @ delta, delta.sum(axis=0)))
        if k > 0:
            delta = (delta @ params[k][0].T) * FUNCTIONS[activation][1](zs[k - 1])
    return grads[::-1]


class Optimizer:
    """torch.optim's update rules and defaults, on one flat vector of parameters.

    sgd p -= lr g; momentum b = 0.9 b + g, p -= lr b; adagrad s += g^2,
    p -= lr g / (sqrt(s) + 1e-10); rmsprop v = 0.99 v + 0.01 g^2, p -= lr g / (sqrt(v) + 1e-8);
    adam m = 0.9 m + 0.1 g, v = 0.999 v + 0.001 g^2, p -= lr mhat / (sqrt(vhat) + 1e-8)
    with mhat = m / (1 - 0.9^t), vhat = v / (1 - 0.999^t), t the update count from 1.
    """

    def __init__(self, name: str, lr: float, size: int) -> None:
        if name not in ("sgd", "momentum", "adagrad", "rmsprop", "adam"):
            raise ValueError(name)
        self.name = name
        self.lr = lr
        self.t = 0
        self.m = np.zeros(size)
        self.v = np.zeros(size)

    def step(self, p: np.ndarray, g: np.ndarray) -> None:
        """Update ``p`` in place from its gradient ``g``."""
        self.t += 1
        lr, m, v = self.lr, self.m, self.v
        if self.name == "sgd":
            p -= lr * g
        elif self.name == "momentum":
            m[:] = 0.9 * m + g
            p -= lr * m
        elif self.name == "adagrad":
            v += g * g
            p -= lr * g / (np.sqrt(v) + 1e-10)
        elif self.name == "rmsprop":
            v[:] = 0.99 * v + 0.01 * g * g
            p -= lr * g / (np.sqrt(v) + 1e-8)
        else:
            m[:] = 0.9 * m + 0.1 * g
            v[:] = 0.999 * v + 0.001 * g * g
            m_hat = m / (1.0 - 0.9**self.t)
            v_hat = v / (1.0 - 0.999**self.t)
            p -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)


@dataclass
class Result:
    loss: np.ndarray
    accuracy: np.ndarray
    weights: Params
    epochs_run: int
    convergence_epoch: int | None
    diverged: bool
    history: list[Params]
    """``history[e]``: the weights at the start of epoch ``e``, those that scored ``loss[e]``."""


def train(
    x: np.ndarray,
    y: np.ndarray,
    params: Params,
    *,
    activation: str = "sigmoid",
    output_activation: str = "sigmoid",
    loss: str = "mse",
    optimizer: str = "sgd",
    lr: float = 0.1,
    epochs: int = 100,
    target_loss: float | None = None,
    stop_at_target: bool = True,
    batch_size: int | None = None,
    orders: Sequence[np.ndarray] | None = None,
    bias: bool = True,
) -> Result:
    """Train a copy of ``params`` on ``(x, y)``, the slow obvious way.

    ``batch_size`` None is full batch; ``orders[e]`` (default: the natural order) is the
    order of the samples in epoch ``e``'s mini-batches. With ``bias`` False the biases
    are zero and never updated.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    n = x.shape[0]
    # All parameters in one vector; ws and bs are views into it. Without bias the
    # biases are zero and left out of the trained set.
    theta = np.concatenate([np.concatenate([np.ravel(w), np.ravel(b)]) for w, b in params])
    ws, bs, trained, p = [], [], [], 0
    for w, _ in params:
        fan_in, fan_out = np.shape(w)
        ws.append(theta[p : p + fan_in * fan_out].reshape(fan_in, fan_out))
        trained += [True] * (fan_in * fan_out) + [bias] * fan_out
        p += fan_in * fan_out
        bs.append(theta[p : p + fan_out])
        p += fan_out
    if not bias:
        for b in bs:
            b[:] = 0.0
    mask = np.array(trained)
    opt = Optimizer(optimizer, lr, int(mask.sum()))
    size = n if batch_size is None else min(batch_size, n)
    losses: list[float] = []
    accuracies: list[float] = []
    convergence = None
    diverged = False
    history: list[Params] = []
    with np.errstate(all="ignore"):  # a diverging run overflows; its loss says so
        for e in range(epochs):
            history.append([(w.copy(), b.copy()) for w, b in zip(ws, bs, strict=True)])
            value, accuracy = score(x, y, history[-1], activation, output_activation, loss)
            losses.append(value)
            accuracies.append(accuracy)
            if not np.isfinite(value):
                diverged = True
                break
            if target_loss is not None and convergence is None and value < target_loss:
                convergence = e
                if stop_at_target:
                    break
            order = np.arange(n) if orders is None else np.asarray(orders[e])
            for start in range(0, n, size):
                rows = order[start : start + size]
                current = list(zip(ws, bs, strict=True))
                grads = gradients(x[rows], y[rows], current, activation, output_activation, loss)
                grad = np.concatenate([np.concatenate([dw.ravel(), db]) for dw, db in grads])
                if bias:
                    opt.step(theta, grad)
                else:
                    sub = theta[mask]
                    opt.step(sub, grad[mask])
                    theta[mask] = sub
    return Result(
        loss=np.array(losses),
        accuracy=np.array(accuracies),
        weights=[(w.copy(), b.copy()) for w, b in zip(ws, bs, strict=True)],
        epochs_run=len(losses),
        convergence_epoch=convergence,
        diverged=diverged,
        history=history,
    )
