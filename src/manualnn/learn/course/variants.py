"""Each student's own exercise: a variant derived from HMAC-SHA256(course key, student id).

The same key and id always give the same variant; another id or another key gives an
unrelated one (a student cannot compute a classmate's variant without the key, and the
variants of two courses share nothing).  Every field comes from its own 4 bytes of the
digest, taken modulo the number of choices, so no random-number library (whose streams
may change between versions) sits between the key and the shapes.

    depth L         2 or 3 layers for backprop (widths n_1 .. n_{L+1})
    widths          inputs n_1 in 4..9, hidden widths in 3..8, classes n_{L+1} in 3..6
    batch           3..9 rows per step of the epoch functions
    activation      sigma of backprop, one of ACTIVATIONS
    seed            the self-check data's seed (shown to the student in the handout)

The hidden probes use a second variant from the same key and id with another label
(``hidden=True``): other shapes and data the student never sees, and always a smooth
sigma (tanh, sigmoid or softplus).  With relu or leaky relu, sigma' of a layer's output
equals sigma' of its input (the sign is kept), so a student whose own variant has one of
those could not see that mistake in a self-check; the hidden probes always can.
"""

from __future__ import annotations

import hashlib
import hmac

from manualnn.learn.course.roster import check_id

DEPTHS = (2, 3)
INPUTS, HIDDEN, CLASSES, BATCHES = range(4, 10), range(3, 9), range(3, 7), range(3, 10)
SMOOTH = ("tanh", "sigmoid", "softplus")   # sigma'(sigma(x)) != sigma'(x): see above
LABELS = {False: b"manualnn-course/variant\0", True: b"manualnn-course/hidden\0"}


def _activations() -> tuple:
    from manualnn.learn.course.adapter import ACTIVATIONS
    return ACTIVATIONS


def variant_fields(key: bytes, student: str, hidden: bool = False) -> dict:
    """The variant's fields {widths, batch, activation, seed} for ``student``."""
    if not isinstance(key, bytes) or len(key) < 16:
        raise ValueError("key: expected the course's secret key (at least 16 bytes)")
    check_id(student, "student")
    digest = hmac.new(key, LABELS[hidden] + student.encode("ascii"), hashlib.sha256).digest()
    words = [int.from_bytes(digest[i:i + 4], "big") for i in range(0, len(digest), 4)]

    def pick(choices, word):
        return choices[word % len(choices)]
    depth = pick(DEPTHS, words[0])
    hidden_widths = [pick(HIDDEN, w) for w in (words[1], words[2])][:depth - 1]
    widths = (pick(INPUTS, words[3]), *hidden_widths, pick(CLASSES, words[4]))
    return {"widths": widths, "batch": pick(BATCHES, words[5]),
            "activation": pick(SMOOTH if hidden else _activations(), words[6]),
            "seed": words[7]}


def variant_for(key: bytes, student: str, hidden: bool = False):
    """The student's Variant (learn/variant.py), checked by its own validation."""
    from manualnn.learn.course.adapter import make_variant
    return make_variant(**variant_fields(key, student, hidden))
