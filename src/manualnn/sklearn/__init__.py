"""scikit-learn estimators on manualnn's engine: a drop-in for MLPClassifier and
MLPRegressor.

    estimators.py  MLPClassifier and MLPRegressor
    base.py        their shared parameters, checks and fitted attributes
    fit.py         the solvers: scikit-learn's epoch loop and L-BFGS on manualnn's train/
                   stack (its update rules are train/sklearn_rules.py)
    folders.py     model folders, the same files as ``manualnn train`` writes
    array_api.py   torch, CuPy and array API input under scikit-learn's array_api_dispatch:
                   fitted attributes and predictions on the input's device
"""

from manualnn.sklearn.estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
