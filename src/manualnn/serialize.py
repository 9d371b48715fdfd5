"""The public path of the model files, ``manualnn.serialize.save_model`` and
``load_model``; the code, and the rest of the file format, is ``manualnn.io.serialize``."""

from manualnn.io.serialize import load_model, save_model

__all__ = ["load_model", "save_model"]
