"""manualnn: fully-connected networks trained by backpropagation written by hand."""

from manualnn.checks import DataError
from manualnn.core.activations import ACTIVATIONS, Activation, get_activation, register_activation
from manualnn.core.gradcheck import gradcheck
from manualnn.core.initializers import INITIALIZERS, initialize
from manualnn.core.losses import LOSSES, Loss, get_loss
from manualnn.core.network import MLP
from manualnn.core.two_layer import two_layer_gradients

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
