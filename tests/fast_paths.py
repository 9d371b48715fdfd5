"""Run test code with manualnn's optional fast paths (scipy's BLAS, numba's loops) on or off."""

import contextlib

from manualnn import ops


@contextlib.contextmanager
def fast_paths(on: bool):
    """``ops.extras(on)`` for the block, then back as it was."""
    before = ops.extras()
    ops.extras(on)
    try:
        yield
    finally:
        ops.extras(before)


def on_and_off(compute):
    """[compute() with the fast paths on, compute() with NumPy alone]."""
    out = []
    for on in (True, False):
        with fast_paths(on):
            out.append(compute())
    return out
