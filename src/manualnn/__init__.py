"""manualnn: fully-connected networks trained by backpropagation written by hand."""

from .activations import ACTIVATIONS, Activation, get_activation, register_activation
from .checks import DataError
from .gradcheck import gradcheck
from .initializers import INITIALIZERS, initialize
from .losses import LOSSES, Loss, get_loss
from .network import MLP
from .two_layer import two_layer_gradients

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "MLP",
    "Activation",
    "DataError",
    "Loss",
    "__version__",
    "get_activation",
    "get_loss",
    "gradcheck",
    "initialize",
    "register_activation",
    "two_layer_gradients",
]
