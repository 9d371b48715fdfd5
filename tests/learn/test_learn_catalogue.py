"""The catalogue, its mutants and the probes: every id in both languages, every mutant in
the reference, the reference equal to manualnn's engine, and probes that tell every pair
of mistakes apart, for each function, on several variants."""

import itertools
import pathlib
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manualnn.core.losses import SoftmaxCrossEntropy
from manualnn.core.network import MLP
from manualnn.learn import catalogue, reference
from manualnn.learn.diagnose import _comparable, candidates, run_reference
from manualnn.learn.driver import ACTIVATIONS
from manualnn.learn.probes import FUNCTIONS, build
from manualnn.learn.variant import ACTIVATIONS as ACTIVATION_NAMES
from manualnn.learn.variant import Variant

ISSUE_IDS = {"sigma_prime_of_output", "extra_output_derivative", "missing_mean",
             "double_mean", "missing_transpose", "hadamard_as_matmul",
             "wrong_layer_derivative", "bias_grad_mean", "bias_grad_wrong_axis",
             "premature_update", "stale_gradients", "no_max_subtraction", "wrong_one_hot",
             "gradient_ascent", "batch_slicing", "labels_not_sliced"}
VARIANTS = [Variant(), Variant(widths=(6, 5, 3), batch=3, activation="sigmoid", seed=1,
                               dtype="float32"),
            Variant(widths=(9, 8, 3, 6), batch=9, activation="softplus", seed=2 ** 32 - 1),
            Variant(widths=(4, 3, 5), batch=2, activation="leaky_relu", seed=5)]


def test_the_catalogue_has_the_issues_ids_in_english_and_chinese():
    assert set(catalogue.MISTAKES) == ISSUE_IDS
    for m in catalogue.MISTAKES.values():
        assert set(m.description) == set(m.hint) == set(catalogue.LANGS) == {"en", "zh"}
        assert all(m.description[lang] and m.hint[lang] for lang in catalogue.LANGS)
        assert re.search("[\u4e00-\u9fff]", m.description["zh"] + m.hint["zh"]), m.id
        assert m.functions and set(m.functions) <= set(FUNCTIONS)


def test_every_mutant_is_a_line_of_the_reference():
    source = pathlib.Path(reference.__file__).read_text(encoding="utf-8")
    for m in catalogue.MISTAKES.values():
        for name in m.mutants:
            assert f'mistake == "{name}"' in source, name


def _engine_grads(X, y, Ws, bs, activation):
    net = MLP.from_weights([W.copy() for W in Ws], bs and [b.copy() for b in bs],
                           activation=activation, backend="numpy")
    grads = [g.copy() for g in net.loss_and_grad(X, y, SoftmaxCrossEntropy())[1]]
    return grads[::2] + grads[1::2] if bs else grads   # [W_1, b_1, ...] -> [W..., b...]


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "softplus", "leaky_relu"])
def test_the_reference_and_its_activations_equal_manualnns_engine(activation):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    Ws = [rng.normal(size=s) for s in ((5, 4), (4, 4), (4, 3))]
    bs = [rng.normal(size=n) for n in (4, 4, 3)]
    sigma, sigma_prime = ACTIVATIONS[activation]
    for biases in (None, bs):
        dW, db = reference.gradients(X, y, Ws, biases, sigma, sigma_prime)
        want = _engine_grads(X, y, Ws, biases, activation)
        got = dW + (db or [])
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-13)
    Z = rng.normal(size=(7, 3)) * 50
    assert reference.softmax_loss(Z, y) == pytest.approx(SoftmaxCrossEntropy()(Z, y)[0])


def _engine_epoch(X, y, Ws, lr, batch, activation):
    """The course module's epoch (simple_ml._sgd_epoch) on NumPy's backend (no JIT)."""
    net = MLP.from_weights(Ws, activation=activation, backend="numpy")
    for s in range(0, len(X), batch):
        _, grads = net.loss_and_grad(X[s:s + batch], y[s:s + batch], SoftmaxCrossEntropy())
        for p, g in zip(net.params, grads):
            p -= lr * g


def test_the_reference_epochs_equal_manualnns_engine():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(23, 5)).astype(np.float32), rng.integers(0, 3, 23)
    W1, W2 = (rng.normal(size=s).astype(np.float32) for s in ((5, 4), (4, 3)))
    for Ws, activation in (([W1, W2], "relu"), ([W2], "identity")):
        a, b = [W.copy() for W in Ws], [W.copy() for W in Ws]
        Xs = X if len(Ws) == 2 else X[:, :4]
        reference.epoch(Xs, y, a, 0.5, 5, "relu")
        _engine_epoch(Xs, y, b, 0.5, 5, activation)
        for got, want in zip(a, b):
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


def _distance(function, probe, a, b):
    """How far apart two outcomes are on a probe: inf where one ran and the other not."""
    if a["status"] != "ok" or b["status"] != "ok":
        return 0.0 if a["status"] == b["status"] else np.inf
    arrays, _ = probe
    x, y = _comparable(function, arrays, a), _comparable(function, arrays, b)
    if len(x) != len(y) or any(p.shape != q.shape for p, q in zip(x, y)):
        return np.inf
    worst = 0.0
    for p, q in zip(x, y):
        if np.isfinite(p).all() != np.isfinite(q).all():
            return np.inf
        scale = max(np.max(np.abs(q[np.isfinite(q)]), initial=0), 1e-30)
        both = np.isfinite(p) & np.isfinite(q)
        worst = max(worst, np.max(np.abs(p[both] - q[both]), initial=0) / scale)
    return worst


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: f"{v.activation}-{v.dtype}")
@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_probes_tell_every_pair_of_mistakes_apart(function, variant):
    """Far apart: 0.05 relative (25 times the float32 tolerance), or one ran and one
    did not.  Every mistake also differs from the right answer, except sigma' of the
    output for relu-like sigma, which is the same function there; and each runs somewhere."""
    assert_separated(function, variant)


@settings(max_examples=4, deadline=None, derandomize=True)
@given(depth=st.sampled_from([2, 3]), inputs=st.integers(4, 9),
       hidden=st.lists(st.integers(3, 8), min_size=2, max_size=2), classes=st.integers(3, 6),
       batch=st.integers(3, 9), activation=st.sampled_from(ACTIVATION_NAMES),
       seed=st.integers(0, 2 ** 32 - 1), dtype=st.sampled_from(["float32", "float64"]))
def test_the_probes_tell_the_mistakes_apart_on_a_courses_variants(
        depth, inputs, hidden, classes, batch, activation, seed, dtype):
    """The ranges a course draws its students' variants from (learn/course/variants.py);
    210 such variants drawn at random passed this when it was written."""
    variant = Variant(widths=(inputs, *hidden[:depth - 1], classes), batch=batch,
                      activation=activation, seed=seed, dtype=dtype)
    for function in FUNCTIONS:
        assert_separated(function, variant)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(depth=st.sampled_from([2, 3]), inputs=st.integers(4, 9),
       hidden=st.lists(st.integers(3, 8), min_size=2, max_size=2), classes=st.integers(3, 6),
       batch=st.integers(3, 9), seed=st.integers(0, 2 ** 32 - 1),
       dtype=st.sampled_from(["float32", "float64"]))
def test_the_right_answer_answers_every_probe_of_a_courses_variants(
        depth, inputs, hidden, classes, batch, seed, dtype):
    """No probe where the right epoch leaves its weights unchanged (saturated logits,
    dead relu units), which would read as the learner's error."""
    variant = Variant(widths=(inputs, *hidden[:depth - 1], classes), batch=batch, seed=seed,
                      dtype=dtype)
    for function, probes in build(variant, extra=1).items():
        outcomes = run_reference(function, probes)
        assert all(o["status"] == "ok" for o in outcomes.values()), (function, outcomes)


def assert_separated(function, variant):
    probes, right, table = candidates(function, variant)
    assert all(o["status"] == "ok" for o in right.values()), "the right answer fails a probe"
    seen = {mid for mid, _, _, _ in table}
    expect = {m.id for m in catalogue.for_function(function)}
    if variant.activation in ("relu", "leaky_relu"):
        expect.discard("sigma_prime_of_output")
    assert seen == expect
    rows = [(f"{form}{sorted(layers) if layers else ''}", out) for _, form, layers, out in table]
    rows.append(("right", right))
    for (name_a, a), (name_b, b) in itertools.combinations(rows, 2):
        if name_a.split("[")[0].split(".")[0] == name_b.split("[")[0].split(".")[0]:
            continue   # one mistake at another layer or in another form
        far = max(_distance(function, probes[p], a[p], b[p]) for p in probes)
        assert far > 0.05, f"{function}: {name_a} and {name_b} agree on every probe"
    for name, outcomes in rows:
        assert any(o["status"] == "ok" for o in outcomes.values()), f"{name} never runs"


def test_probes_are_reproducible_and_the_extra_ones_differ():
    a, b = build(Variant(seed=4), extra=1), build(Variant(seed=4), extra=1)
    c = build(Variant(seed=5))
    for f in FUNCTIONS:
        assert set(a[f]) == set(c[f]) | {f"{p}-1" for p in c[f]}
        for p in a[f]:
            for name, arr in a[f][p][0].items():
                np.testing.assert_array_equal(arr, b[f][p][0][name])
        assert not np.array_equal(a[f]["main"][0]["y"], a[f]["main-1"][0]["y"]) or \
            a[f]["main"][0]["y"].shape != a[f]["main-1"][0]["y"].shape


@pytest.mark.parametrize("bad, match", [
    ({"widths": (5, 3)}, "widths"), ({"widths": (5, 1, 3)}, "widths"),
    ({"widths": "543"}, "widths"), ({"batch": 1}, "batch"), ({"batch": True}, "batch"),
    ({"activation": "gelu"}, "activation"), ({"seed": -1}, "seed"),
    ({"dtype": "float16"}, "dtype")])
def test_a_bad_variant_is_refused_naming_the_field(bad, match):
    with pytest.raises(ValueError, match=match):
        Variant(**bad)
