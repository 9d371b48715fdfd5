"""JAX peers of the epoch benchmark: the step compiled by XLA (``jax.jit``, one call per
batch) and the whole epoch compiled (``jax.lax.scan`` over the batches, one call).

Same network, initial weights, batch order and update rule as the other contestants:
the gradients come from ``jax.grad`` of the mean softmax cross-entropy, and the updates
are written out as torch.optim writes them (SGD with momentum ``buf = mu buf + g``,
Adam with bias corrections), so the float64 check can hold them to manualnn's weights.
The training set lives on the device (the CPU) as one array; each step gathers its rows
by index inside the compiled code.  The scan takes the epoch's full batches; a last
short batch, where there is one, is one more call of the jitted step.
"""

from __future__ import annotations

import numpy as np
from runners import Config, split_params


def jax_available() -> str | None:
    """None when JAX imports, else the reason it does not."""
    try:
        import jax  # noqa: F401
    except ImportError as exc:
        return f"JAX is not installed ({exc}); `make bench` installs it"
    return None


def _enable_float64():
    import jax

    # float32 arrays stay float32 with x64 on; the check's float64 arrays need it
    jax.config.update("jax_enable_x64", True)
    return jax


def _update_rule(cfg: Config):
    """(init(params) -> state, update(params, grads, state, t) -> (params, state))."""
    import jax
    import jax.numpy as jnp

    tree = jax.tree_util.tree_map
    if cfg.optimizer == "adam":
        b1, b2, eps, lr = 0.9, 0.999, 1e-8, cfg.lr

        def init(params):
            return (tree(jnp.zeros_like, params), tree(jnp.zeros_like, params))

        def update(params, grads, state, t):
            m, v = state
            m = tree(lambda m, g: m + (1 - b1) * (g - m), m, grads)
            v = tree(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
            step = lr / (1 - b1 ** t)
            scale = 1 / jnp.sqrt(1 - b2 ** t)
            params = tree(lambda p, m, v: p - step * m / (jnp.sqrt(v) * scale + eps),
                          params, m, v)
            return params, (m, v)
        return init, update

    lr, mu = cfg.lr, cfg.momentum

    def init(params):
        return tree(jnp.zeros_like, params) if mu else ()

    def update(params, grads, state, t):
        if not mu:
            return tree(lambda p, g: p - lr * g, params, grads), state
        buf = tree(lambda b, g: mu * b + g, state, grads)
        return tree(lambda p, b: p - lr * b, params, buf), buf
    return init, update


def _loss(cfg: Config):
    import jax
    import jax.numpy as jnp

    def loss(params, Xb, yb):
        Z = Xb
        for i, (W, b) in enumerate(params):
            Z = Z @ W if b is None else Z @ W + b
            if i < len(params) - 1:
                Z = jax.nn.relu(Z)
        logp = jax.nn.log_softmax(Z, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))
    return loss


class JaxJit:
    """``jax.jit`` of one training step (gather, forward, ``jax.grad``, update), called
    once per batch from Python, with the parameters' buffers donated to the update."""

    name = "JAX jit per step"

    def __init__(self, cfg: Config, X, y, seed: int, dtype="float32"):
        jax = _enable_float64()
        import jax.numpy as jnp

        self.cfg, self.jnp = cfg, jnp
        self.X = jax.device_put(np.ascontiguousarray(X, dtype=dtype))
        self.y = jax.device_put(y.astype(np.int32))
        W, b = split_params(cfg, cfg.initial_params(seed, dtype))
        self.p = [(jnp.asarray(w), None if b is None else jnp.asarray(b[i]))
                  for i, w in enumerate(W)]
        init, update = _update_rule(cfg)
        self.state, self.t = init(self.p), 0
        grad = jax.value_and_grad(_loss(cfg))

        def step(params, state, t, X, y, rows):
            value, g = grad(params, X[rows], y[rows])
            params, state = update(params, g, state, t)
            return params, state, value
        self._step = jax.jit(step, donate_argnums=(0, 1))

    def prepare(self, order):
        self._order = self.jnp.asarray(order.astype(np.int32))

    def epoch(self, order, epoch_seed):
        B, n = self.cfg.batch, self.X.shape[0]
        values = []
        for start in range(0, n, B):
            self.t += 1
            self.p, self.state, value = self._step(self.p, self.state, self.t, self.X,
                                                   self.y, self._order[start:start + B])
            values.append(value)
        return float(values[-1].block_until_ready())

    def params(self):
        out = []
        for W, b in self.p:
            out += [np.asarray(W)] if b is None else [np.asarray(W), np.asarray(b)]
        return out


class JaxScan(JaxJit):
    """The whole epoch as one compiled call: ``jax.lax.scan`` of the step over the
    epoch's full batches (then the jitted step for a last short batch)."""

    name = "JAX scan epoch"

    def __init__(self, cfg: Config, X, y, seed: int, dtype="float32"):
        super().__init__(cfg, X, y, seed, dtype)
        import jax

        grad = jax.value_and_grad(_loss(cfg))
        _, update = _update_rule(cfg)

        def epoch(params, state, t0, X, y, batches):
            def body(carry, rows):
                params, state, t = carry
                t = t + 1
                value, g = grad(params, X[rows], y[rows])
                params, state = update(params, g, state, t)
                return (params, state, t), value
            (params, state, _), values = jax.lax.scan(body, (params, state, t0), batches)
            return params, state, values
        self._epoch = jax.jit(epoch, donate_argnums=(0, 1))

    def epoch(self, order, epoch_seed):
        B, n = self.cfg.batch, self.X.shape[0]
        full = n // B
        batches = self._order[:full * B].reshape(full, B)
        self.p, self.state, values = self._epoch(self.p, self.state, self.t, self.X,
                                                 self.y, batches)
        self.t += full
        if n % B:
            self.t += 1
            self.p, self.state, _ = self._step(self.p, self.state, self.t, self.X, self.y,
                                               self._order[full * B:])
        return float(values[-1].block_until_ready())
