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
import inspect

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


def to_host(a, name: str = "X"):
    """A NumPy array with a's values (NumPy arrays, lists, None and scalars pass); an
    array whose values cannot be read (a torch tensor that requires grad, one on the
    "meta" device, which has none) is a ValueError naming the argument ``name``."""
    if a is None or isinstance(a, (np.ndarray, list, tuple, int, float, str)) \
            or not hasattr(a, "shape"):
        return a
    if getattr(a, "requires_grad", False):
        raise ValueError(f"{name}: expected an array of values, got a "
                         f"{type(a).__name__} that requires grad; pass {name}.detach()")
    try:
        return host_copy(a)
    except (TypeError, RuntimeError, ValueError, NotImplementedError, BufferError,
            AttributeError) as exc:
        raise ValueError(f"{name}: expected an array whose values can be read, got a "
                         f"{type(a).__name__} of shape {tuple(a.shape)} on device "
                         f"{getattr(a, 'device', '?')} ({exc})"[:300]) from None


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
    names = list(inspect.signature(method).parameters)[2:]   # after self and X

    @functools.wraps(method)
    def run(self, X, *args, **kwargs):
        if not fits:
            _check_same_namespace(self, X, method.__name__)
        where = input_namespace(X)
        if where is None and not (fits and _dispatching()):
            return method(self, X, *args, **kwargs)
        # a fit takes its X's namespace: a warm start on NumPy after torch reads the
        # fitted attributes on the host too
        for name in ON_DEVICE:
            if hasattr(self, name):
                value = getattr(self, name)
                setattr(self, name, [to_host(v, name) for v in value]
                        if isinstance(value, list) else to_host(value, name))
        if where is None:
            return method(self, X, *args, **kwargs)
        try:
            result = method(self, to_host(X), *(to_host(a, n) for a, n in zip(args, names)),
                            **{k: to_host(v, k) for k, v in kwargs.items()})
        finally:
            for name in ON_DEVICE:
                if hasattr(self, name):
                    setattr(self, name, to_device(getattr(self, name), *where))
        return result if result is self else to_device(result, *where)
    return run


def _dispatching() -> bool:
    from sklearn import get_config
    return bool(get_config().get("array_api_dispatch", False))


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
