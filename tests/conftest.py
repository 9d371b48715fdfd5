import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_terminal_summary(terminalreporter):
    """Report the largest gradient errors the property tests saw (for the closing note)."""
    try:
        from test_gradients import LARGEST
    except ImportError:
        return
    if any(LARGEST.values()):
        terminalreporter.write_line(
            "largest relative gradient error seen: "
            + ", ".join(f"vs {k} {v:.2e}" for k, v in LARGEST.items()))
