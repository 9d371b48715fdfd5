"""atheris target: pictures given to predict (manualnn.cli.predict.read_image): PNG, GIF,
BMP, JPEG, whatever Pillow recognises in the bytes."""

import atheris
import numpy as np
from common import clear_or_raise, run, scratch

with atheris.instrument_imports(include=["manualnn", "PIL"]):
    import PIL.Image  # noqa: F401 (instrumented: coverage feedback from Pillow's parsers)

    from manualnn.cli.predict import read_image


def target(data: bytes) -> None:
    try:
        x = read_image(scratch("input.png", data), (4, 5))
    except Exception as exc:  # noqa: BLE001
        clear_or_raise(exc)
        return
    assert x.shape == (20,) and np.isfinite(x).all() and 0 <= x.min() <= x.max() <= 255


if __name__ == "__main__":
    run(target)
