"""manualnn: fully-connected networks trained by backpropagation written by hand.

The names below load on first use (PEP 562): ``import manualnn`` itself imports nothing,
so that the ``manualnn`` command (``manualnn.launch``) is running, and can turn a Ctrl-C
into one line, before NumPy and the rest load.
"""

import importlib

__version__ = "0.1.0"

_WHERE = {   # public name: the module that defines it
    "DataError": "manualnn.checks",
    "ACTIVATIONS": "manualnn.core.activations", "Activation": "manualnn.core.activations",
    "get_activation": "manualnn.core.activations",
    "register_activation": "manualnn.core.activations",
    "gradcheck": "manualnn.core.gradcheck",
    "INITIALIZERS": "manualnn.core.initializers", "initialize": "manualnn.core.initializers",
    "LOSSES": "manualnn.core.losses", "Loss": "manualnn.core.losses",
    "get_loss": "manualnn.core.losses",
    "MLP": "manualnn.core.network",
    "two_layer_gradients": "manualnn.core.two_layer",
    "check": "manualnn.learn.check",
}

__all__ = ["ACTIVATIONS", "INITIALIZERS", "LOSSES", "MLP", "Activation", "DataError", "Loss",
           "__version__", "check", "get_activation", "get_loss", "gradcheck", "initialize",
           "register_activation", "two_layer_gradients"]   # test_layers holds it to _WHERE


def __getattr__(name: str):
    if name not in _WHERE:   # AttributeError lets ``from manualnn import io`` find submodules
        raise AttributeError(f"module 'manualnn' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
