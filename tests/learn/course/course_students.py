"""A class for the course's tests, docs and benchmark: hand-written submissions as text.

Each function below is written as a learner would (loops over batches, ``@``, in-place
updates); ``CLASS`` joins them into one file per student, each student with at most one
thing wrong, so that a grading of the class shows every kind of verdict:

    ada   all four functions right
    bo    backprop: sigma' taken at the layer's output     -> sigma_prime_of_output
    cy    nn_epoch: the gradient summed, not averaged      -> missing_mean
    dee   softmax_loss: exp without the max subtracted     -> no_max_subtraction
    eve   softmax_regression_epoch: theta += (uphill)      -> gradient_ascent
    fay   backprop: every gradient 1.01 times too large    -> unknown
    gus   imports torch                                     -> refused by the import guard
    hal   nn_epoch never returns                            -> error (time limit)
    ivy   softmax_regression_epoch: theta's transpose      -> error (a shape error, its line)
    jo    all four right, computed in float32              -> correct (tolerance of the dtype)
"""

FUNCTIONS = ("softmax_loss", "softmax_regression_epoch", "nn_epoch", "backprop")
HEADER = "import numpy as np\n\n"

RIGHT_SOFTMAX_LOSS = HEADER + '''
def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(Z).sum(axis=1))
    return np.mean(log_sum - Z[np.arange(Z.shape[0]), y])
'''

NO_MAX_SOFTMAX_LOSS = '''
def softmax_loss(Z, y):
    log_sum = np.log(np.exp(Z).sum(axis=1))
    return np.mean(log_sum - Z[np.arange(Z.shape[0]), y])
'''

RIGHT_SOFTMAX_REGRESSION = '''
def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    for start in range(0, X.shape[0], batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        Z = Xb @ theta
        S = np.exp(Z - Z.max(axis=1, keepdims=True))
        S /= S.sum(axis=1, keepdims=True)
        S[np.arange(len(yb)), yb] -= 1
        theta -= lr * (Xb.T @ S) / len(yb)
'''

RIGHT_NN_EPOCH = '''
def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    for start in range(0, X.shape[0], batch):
        Xb, yb = X[start:start + batch], y[start:start + batch]
        m = Xb.shape[0]
        A1 = Xb @ W1
        Z1 = np.maximum(A1, 0)
        Z2 = Z1 @ W2
        S = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        S /= S.sum(axis=1, keepdims=True)
        S[np.arange(m), yb] -= 1
        G2 = S / m
        G1 = (A1 > 0) * (G2 @ W2.T)
        W1 -= lr * (Xb.T @ G1)
        W2 -= lr * (Z1.T @ G2)
'''

RIGHT_BACKPROP = '''
def backprop(X, y, Ws, sigma, sigma_prime):
    Zs, As = [X], []
    for i, W in enumerate(Ws):
        As.append(Zs[-1] @ W)
        Zs.append(sigma(As[-1]) if i < len(Ws) - 1 else As[-1])
    m = X.shape[0]
    S = np.exp(Zs[-1] - Zs[-1].max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    G = S / m
    grads = [None] * len(Ws)
    for i in reversed(range(len(Ws))):
        D = G if i == len(Ws) - 1 else G * sigma_prime(As[i])
        grads[i] = Zs[i].T @ D
        G = D @ Ws[i].T
    return grads
'''


def _wrong(text, right, wrong):
    assert text.count(right) == 1, right
    return text.replace(right, wrong)


SIGMA_OF_OUTPUT_BACKPROP = _wrong(RIGHT_BACKPROP, "sigma_prime(As[i])", "sigma_prime(Zs[i + 1])")
SCALED_BACKPROP = _wrong(RIGHT_BACKPROP, "grads[i] = Zs[i].T @ D", "grads[i] = 1.01 * Zs[i].T @ D")
SUMMED_NN_EPOCH = _wrong(RIGHT_NN_EPOCH, "G2 = S / m", "G2 = S")
LOOPING_NN_EPOCH = _wrong(RIGHT_NN_EPOCH, "    for start in", "    while True:\n        pass\n    for start in")
UPHILL_REGRESSION = _wrong(RIGHT_SOFTMAX_REGRESSION, "theta -= lr", "theta += lr")
TRANSPOSED_REGRESSION = _wrong(RIGHT_SOFTMAX_REGRESSION, "Z = Xb @ theta", "Z = Xb @ theta.T")

F32_SOFTMAX_LOSS = _wrong(RIGHT_SOFTMAX_LOSS, "    Z = Z - Z", "    Z = Z.astype(np.float32)\n    Z = Z - Z")
F32_NN_EPOCH = _wrong(_wrong(RIGHT_NN_EPOCH, "A1 = Xb @ W1", "Xb = Xb.astype(np.float32)\n"
                             "        A1 = Xb @ W1.astype(np.float32)"),
                      "Z2 = Z1 @ W2", "Z2 = Z1 @ W2.astype(np.float32)")
F32_BACKPROP = _wrong(_wrong(RIGHT_BACKPROP, "Zs, As = [X], []", "Zs, As = [X.astype(np.float32)], []"),
                      "As.append(Zs[-1] @ W)", "As.append(Zs[-1] @ W.astype(np.float32))")

RIGHT = {"softmax_loss": RIGHT_SOFTMAX_LOSS, "softmax_regression_epoch": RIGHT_SOFTMAX_REGRESSION,
         "nn_epoch": RIGHT_NN_EPOCH, "backprop": RIGHT_BACKPROP}
CHANGES = {"ada": {}, "bo": {"backprop": SIGMA_OF_OUTPUT_BACKPROP},
           "cy": {"nn_epoch": SUMMED_NN_EPOCH}, "dee": {"softmax_loss": HEADER + NO_MAX_SOFTMAX_LOSS},
           "eve": {"softmax_regression_epoch": UPHILL_REGRESSION},
           "fay": {"backprop": SCALED_BACKPROP}, "gus": {"softmax_loss": "import torch\n"
                                                        + RIGHT_SOFTMAX_LOSS},
           "hal": {"nn_epoch": LOOPING_NN_EPOCH},
           "ivy": {"softmax_regression_epoch": TRANSPOSED_REGRESSION},
           "jo": {"softmax_loss": F32_SOFTMAX_LOSS, "nn_epoch": F32_NN_EPOCH,
                  "backprop": F32_BACKPROP}}
# what grading says: {student: {function: (verdict, mistake)}} for the functions not right
EXPECTED = {"ada": {}, "bo": {"backprop": ("mistake", "sigma_prime_of_output")},
            "cy": {"nn_epoch": ("mistake", "missing_mean")},
            "dee": {"softmax_loss": ("mistake", "no_max_subtraction")},
            "eve": {"softmax_regression_epoch": ("mistake", "gradient_ascent")},
            "fay": {"backprop": ("unknown", None)}, "gus": "refused",
            "hal": {"nn_epoch": ("error", None)},
            "ivy": {"softmax_regression_epoch": ("error", None)}, "jo": {}}


def submission(student: str) -> str:
    """The text of ``student``'s file: each function right unless CHANGES says otherwise."""
    parts = {**RIGHT, **CHANGES[student]}
    return "\n".join(parts[f] for f in FUNCTIONS)


def write_class(folder, students=None, copies: int = 1) -> list:
    """Write ``folder/ID.py`` for each student (``copies`` > 1: ID-0 .. ID-(copies-1));
    returns the ids."""
    ids = []
    for student in students or CHANGES:
        for c in range(copies):
            sid = student if copies == 1 else f"{student}-{c}"
            (folder / f"{sid}.py").write_text(submission(student))
            ids.append(sid)
    return ids
