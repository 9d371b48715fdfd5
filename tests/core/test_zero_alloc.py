"""A steady training step allocates no arrays that grow with the batch or the layers.

After the first step has made the workspaces (and the optimizer its state), a step --
``net.loss_and_grad`` (with the optimizer's updates inside backward) then
``optimizer.step`` -- must neither keep new memory nor make
temporaries proportional to the batch size m or the layer widths.  tracemalloc sees
NumPy's array memory as well as Python's.

What a step may still allocate is bounded and does not depend on the sizes: Python's
small objects (views, floats, tuples) and NumPy's iterator buffers for a broadcasting
ufunc (``A += b``, ``Z -= r``), ``np.getbufsize()`` elements each (8192 by default).  The
measured steps run with that buffer size at its minimum, 16, so that a temporary is not
hidden under a buffer, and the test compares the same step at two sizes, four times
apart in m and twice in the hidden widths: the memory kept and the transient peak must
be the same, and small.  Any temporary of m or n elements (even a boolean m-vector)
breaks it.
"""

import tracemalloc

import numpy as np
import pytest

from manualnn import MLP, get_loss
from manualnn.train.optim import SGD, Adam, AdamW
from manualnn.train.step import Step

SLACK = 256   # bytes: Python's own jitter; a boolean m-vector of the larger is 2 KiB
PEAK = 4096   # bytes: a few views, floats and iterators alive at once, never an array


def _step_memory(m, widths, make_opt, dtype, bias, steps=2):
    """(bytes kept, peak bytes above the start) over ``steps`` steady steps."""
    rng = np.random.default_rng(0)
    net = MLP(widths, bias=bias, dtype=dtype, rng=1)
    loss = get_loss("softmax_cross_entropy")
    X = rng.standard_normal((m, widths[0])).astype(dtype)
    y = rng.integers(0, widths[-1], m)
    opt = make_opt(net.params)

    run = Step(net, loss, opt)   # as train.fit runs it: SGD may step weights in backward

    def step():
        run(X, y)

    step()   # the first step makes the workspaces and the optimizer's state
    old_bufsize = np.setbufsize(16)
    tracemalloc.start()
    try:
        for _ in range(3):   # Python's and NumPy's free lists settle under tracing first
            step()
        for _ in range(2):   # the first round in a process keeps a few one-time objects
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            for _ in range(steps):
                step()
            current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        np.setbufsize(old_bufsize)
    return current - start, peak - start


OPTIMIZERS = {
    "sgd": lambda p: SGD(p, lr=1e-3),
    "sgd-momentum": lambda p: SGD(p, lr=1e-3, momentum=0.9),
    "sgd-nesterov-decay": lambda p: SGD(p, lr=1e-3, momentum=0.9, nesterov=True,
                                        weight_decay=1e-4),
    "adam": lambda p: Adam(p, lr=1e-4),
    "adamw": lambda p: AdamW(p, lr=1e-4),
}


@pytest.mark.parametrize("opt, dtype, bias", [
    ("sgd", "float32", False), ("sgd", "float32", True), ("sgd-momentum", "float32", True),
    ("sgd-nesterov-decay", "float64", True), ("adam", "float32", True),
    ("adamw", "float64", False)])
def test_a_steady_step_allocates_nothing_that_grows(opt, dtype, bias):
    small = _step_memory(512, [64, 256, 128, 10], OPTIMIZERS[opt], dtype, bias)
    large = _step_memory(2048, [64, 512, 256, 10], OPTIMIZERS[opt], dtype, bias)
    kept_small, peak_small = small
    kept_large, peak_large = large
    assert kept_large - kept_small <= SLACK and kept_large <= PEAK / 4, (small, large)
    assert peak_large - peak_small <= SLACK, (small, large)
    assert peak_large <= PEAK, (small, large)


def test_the_measure_would_see_a_temporary():
    """The method is sensitive: a step that makes one boolean m-vector fails it."""
    class Leaky(SGD):
        def step(self, grads):
            super().step(grads)
            np.zeros(self._m, bool)

    def make(params, m):
        opt = Leaky(params, lr=1e-3)
        opt._m = m
        return opt

    small = _step_memory(512, [64, 256, 128, 10], lambda p: make(p, 512), "float32", True)
    large = _step_memory(2048, [64, 512, 256, 10], lambda p: make(p, 2048), "float32", True)
    assert large[1] - small[1] > SLACK
