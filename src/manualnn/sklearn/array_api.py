"""The estimators under scikit-learn's ``array_api_dispatch=True``: torch, CuPy or any
array API input is accepted, and the fitted attributes (``coefs_``, ``intercepts_``, and
numeric ``classes_``) and the predictions live in the input's namespace and on its device,
as scikit-learn's own array API estimators keep them.

The arithmetic itself runs on the host, on the NumPy engine: the estimators train one flat
parameter vector whose slices are the weights, L-BFGS goes through SciPy, and their
digests are pinned; so a method copies its inputs (and the fitted attributes) to the host
once, runs as it does on NumPy, and puts what it made back on the input's device.  For
training on a GPU use ``MLP(..., backend="cupy")`` or ``manualnn train --device cuda``.

Without ``array_api_dispatch`` (the default) nothing here runs: NumPy input takes the
estimators' own path, unchanged.
"""

from __future__ import annotations

import functools

import numpy as np

from manualnn.backend.device import host_copy

ON_DEVICE = ("coefs_", "intercepts_", "classes_")


def input_namespace(X):
    """(namespace, device) of X where scikit-learn's array_api_dispatch is on and X is an
    array of another library than NumPy; None otherwise."""
    from sklearn import get_config
    if not get_config().get("array_api_dispatch", False) or isinstance(X, np.ndarray):
        return None
    from manualnn.backend.array_api import compat
    aac = compat()
    if not aac.is_array_api_obj(X):   # lists, data frames, sparse matrices: the usual path
        return None
    return aac.array_namespace(X), aac.device(X)


def to_host(a):
    """A NumPy array with a's values (NumPy arrays, lists, None and scalars pass)."""
    if a is None or isinstance(a, (np.ndarray, list, tuple, int, float, str)) \
            or not hasattr(a, "shape"):
        return a
    return host_copy(a)


def to_device(a, xp, device):
    """a (a NumPy array, a list of them, or anything else, passed) in ``xp`` on ``device``."""
    if isinstance(a, list):
        return [to_device(v, xp, device) for v in a]
    if isinstance(a, np.ndarray) and a.dtype.kind in "biuf":
        return xp.asarray(a, device=device)
    return a


def on_input_device(method):
    """Run ``method(self, X, ...)`` on host copies when X is another library's array under
    array_api_dispatch; the fitted attributes and the result go to X's namespace and
    device."""
    fits = method.__name__ in ("fit", "partial_fit")

    @functools.wraps(method)
    def run(self, X, *args, **kwargs):
        if not fits:
            _check_same_namespace(self, X, method.__name__)
        where = input_namespace(X)
        if where is None:
            return method(self, X, *args, **kwargs)
        for name in ON_DEVICE:
            if hasattr(self, name):
                value = getattr(self, name)
                setattr(self, name, [to_host(v) for v in value] if isinstance(value, list)
                        else to_host(value))
        try:
            result = method(self, to_host(X), *map(to_host, args),
                            **{k: to_host(v) for k, v in kwargs.items()})
        finally:
            for name in ON_DEVICE:
                if hasattr(self, name):
                    setattr(self, name, to_device(getattr(self, name), *where))
        return result if result is self else to_device(result, *where)
    return run


def _check_same_namespace(est, X, method: str) -> None:
    """Under array_api_dispatch, X of ``predict`` and friends must be of the namespace and
    device of the fitted attributes (scikit-learn's rule, and its words)."""
    from sklearn import get_config
    coefs = getattr(est, "coefs_", None)
    if not get_config().get("array_api_dispatch", False) or not coefs \
            or not hasattr(X, "shape"):
        return
    from manualnn.backend.array_api import compat
    aac = compat()
    try:
        theirs = aac.array_namespace(X), str(aac.device(X))
    except TypeError:   # a sparse matrix or a data frame: the usual checks say what it is
        return
    mine = aac.array_namespace(coefs[0]), str(aac.device(coefs[0]))
    if theirs != mine:
        raise ValueError(f"Inputs passed to {type(est).__name__}.{method}() must use the "
                         f"same namespace and the same device as those passed to fit(): "
                         f"fitted on {mine[0].__name__} ({mine[1]}), got {theirs[0].__name__} "
                         f"({theirs[1]})")
