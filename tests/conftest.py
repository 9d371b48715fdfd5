import os

import numpy as np
import pytest

# scikit-learn's array API checks (check_estimator's, and tests/sklearn/test_array_api.py)
# need SciPy's array API mode, which SciPy reads once, when it is first imported
os.environ.setdefault("SCIPY_ARRAY_API", "1")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No cache, no $MANUALNN_DATA and no system folders from the machine running tests."""
    from manualnn.data import datasets
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MANUALNN_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {})
    return tmp_path


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
