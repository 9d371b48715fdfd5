"""The exercise file ``manualnn exercise`` writes: the learner's functions, bodies empty.

Each function gets a docstring with every shape and the lecture's recurrence; the header
says how to check the file (with the variant's options where it is not the default).
The text holds no number of any answer.

>>> print(skeleton_text(["softmax_loss"]).splitlines()[0])
\"\"\"Exercises from the lecture "Manual Neural Networks": write each function below.
"""

from __future__ import annotations

import os

from manualnn import atomic
from manualnn.learn.probes import FUNCTIONS
from manualnn.learn.variant import Variant

HEADER = {
    "en": '''"""Exercises from the lecture "Manual Neural Networks": write each function below.

Check your work (it names the mistake, the layer and a hint):

    {command}

NumPy only; shapes follow the lecture: X (m, n), y (m,) labels in 0..k-1, W_i (n_i, n_{{i+1}}).
{variant}"""
''',
    "zh": '''"""讲义“手写神经网络”（Manual Neural Networks）的练习：完成下面每个函数。

检查你的代码（它会指出错误的名字、所在的层，并给出提示）：

    {command}

只用 NumPy；形状与讲义一致：X (m, n)，y (m,) 取值 0..k-1 的标签，W_i (n_i, n_{{i+1}})。
{variant}"""
''',
}

ABOUT = {
    "en": "\nYour backprop is checked with widths n_1..n_(L+1) = {widths} and sigma = {sigma};"
          "\nthe epoch functions with batch = {batch}.\n",
    "zh": "\n你的 backprop 用宽度 n_1..n_(L+1) = {widths}、sigma = {sigma} 检查；"
          "\n各 epoch 函数用 batch = {batch} 检查。\n",
}

BODIES = {
    "softmax_loss": ('''def softmax_loss(Z, y):''', '''
    The mean softmax (cross-entropy) loss of the logits Z (m, k) for the labels y (m,):

        loss = (1 / m) sum_j ( log sum_c exp Z[j, c]  -  Z[j, y_j] )

    Returns one number.  Large logits (z = 1000) must give a finite loss.'''),
    "softmax_regression_epoch": ('''def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):''', '''
    One epoch of SGD for softmax regression h = X theta, over the batches
    X[s : s + batch], s = 0, batch, 2 batch, ... in order (the last may be shorter).

    X (n_rows, n), y (n_rows,), theta (n, k), updated in place, nothing returned.
    For each batch Xb (m, n) with labels yb (m,):

        S = softmax(Xb theta)                       (m, k)
        grad theta = Xb^T (S - I_y) / m             (n, k)
        theta <- theta - lr grad theta'''),
    "nn_epoch": ('''def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):''', '''
    One epoch of SGD for the two-layer network relu(X W1) W2 (no bias), over the
    batches X[s : s + batch] in order (the last may be shorter).

    X (n_rows, n), y (n_rows,), W1 (n, d), W2 (d, k): updated in place, nothing returned.
    For each batch Xb (m, n) with labels yb (m,):

        Z1 = relu(Xb W1)                            (m, d)
        G2 = softmax(Z1 W2) - I_y                   (m, k)
        G1 = 1[Z1 > 0] o (G2 W2^T)                  (m, d)   o: element-wise
        grad W1 = Xb^T G1 / m,  grad W2 = Z1^T G2 / m
        W1 <- W1 - lr grad W1,  W2 <- W2 - lr grad W2'''),
    "backprop": ('''def backprop(X, y, Ws, sigma, sigma_prime):''', '''
    The gradients [grad W_1, ..., grad W_L] of the mean softmax loss of Z_{L+1} = Z_L W_L,
    with Z_1 = X and Z_{i+1} = sigma(Z_i W_i) for the hidden layers i < L.

    X (m, n_1), y (m,), Ws = [W_1 (n_1, n_2), ..., W_L (n_L, n_{L+1})];
    sigma, sigma_prime: element-wise functions; sigma_prime takes the pre-activation.

        G_{L+1} = (softmax(Z_L W_L) - I_y) / m                 (m, n_{L+1})
        D_L = G_{L+1},  D_i = G_{i+1} o sigma'(Z_i W_i)         (m, n_{i+1})
        grad W_i = Z_i^T D_i                                    (n_i, n_{i+1})
        G_i = D_i W_i^T                                         (m, n_i)

    Returns a list of L arrays, each shaped like its W_i.'''),
    "backprop_bias": ('''def backprop_bias(X, y, Ws, bs, sigma, sigma_prime):''', '''
    backprop with biases: Z_{i+1} = sigma(Z_i W_i + b_i) for i < L, logits Z_L W_L + b_L.

    bs = [b_1 (n_2,), ..., b_L (n_{L+1},)].  As in backprop, with sigma' taken at
    Z_i W_i + b_i, and

        grad b_i = the sum over the m rows of D_i                (n_{i+1},)

    Returns (grads_W, grads_b): two lists of L arrays, shaped like Ws and bs.'''),
}


def command_line(variant: Variant | None, filename: str = "FILE.py") -> str:
    """The ``manualnn check`` command that checks ``filename`` on ``variant``'s probes."""
    parts = ["manualnn", "check", filename]
    variant = Variant() if variant is None else variant
    default = Variant()
    for field, option in (("widths", "--widths"), ("batch", "--batch"),
                          ("activation", "--activation"), ("seed", "--seed"),
                          ("dtype", "--dtype")):
        value = getattr(variant, field)
        if value != getattr(default, field):
            parts += [option, ",".join(map(str, value)) if field == "widths" else str(value)]
    return " ".join(parts)


def skeleton_text(functions=None, variant=None, lang="en", filename="FILE.py") -> str:
    """The exercise file's text for ``functions`` (default all), checked on ``variant``."""
    functions = list(FUNCTIONS if functions is None else functions)
    bad = [f for f in functions if f not in FUNCTIONS]
    if bad or not functions:
        raise ValueError(f"functions: expected names among {', '.join(FUNCTIONS)}, got "
                         f"{functions!r}"[:200])
    if lang not in HEADER:
        raise ValueError(f"lang: expected one of {', '.join(HEADER)}, got {lang!r}")
    variant = Variant() if variant is None else variant
    if not isinstance(variant, Variant):
        raise TypeError(f"variant: expected a Variant, got {type(variant).__name__}")
    about = ABOUT[lang].format(widths=variant.widths, sigma=variant.activation,
                               batch=variant.batch)
    parts = [HEADER[lang].format(command=command_line(variant, filename), variant=about),
             "import numpy as np\n"]
    for f in dict.fromkeys(functions):
        signature, doc = BODIES[f]
        parts.append(f'\n{signature}\n    """{doc.strip()}\n    """\n'
                     "    ### BEGIN YOUR SOLUTION\n    raise NotImplementedError\n"
                     "    ### END YOUR SOLUTION\n")
    return "\n".join(parts)


def write_skeleton(path, functions=None, variant=None, lang="en", force=False) -> str:
    """Write the exercise file to ``path`` (atomically); an existing file is kept unless
    ``force`` (it may hold the learner's work).  Returns the path written."""
    path = os.fspath(path)
    if not path.endswith(".py"):
        raise ValueError(f"path: expected a .py file name, got {path!r}")
    if os.path.lexists(path) and not force:
        raise ValueError(f"{path}: exists; refusing to overwrite it (your work?); give "
                         "another name or --force")
    text = skeleton_text(functions, variant, lang, os.path.basename(path))
    atomic.check_target(path, "path")
    atomic.write_text(path, text)
    return path
