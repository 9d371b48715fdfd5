"""Hand-written learners (tests/learn/learners/, in loops, einsum, np.dot, in place or
not) are diagnosed as the mistake they hold, at the right layer, in float32 and float64
over several seeds and variants; right ones are correct; wrong ones outside the
catalogue (scaled by 1.01, a layer zeroed) are unknown, never an id, never correct."""

import pytest
from learner_files import FILES, expected, layer_of, load

from manualnn.learn.check import check, check_file
from manualnn.learn.variant import Variant

VARIANTS = [Variant(),
            Variant(widths=(6, 5, 3), batch=3, activation="sigmoid", seed=1, dtype="float32"),
            Variant(widths=(4, 6, 5, 3), batch=5, activation="softplus", seed=2),
            Variant(widths=(7, 3, 4), batch=6, activation="relu", seed=3, dtype="float32"),
            Variant(widths=(9, 8, 3, 6), batch=9, activation="leaky_relu", seed=2 ** 32 - 1)]
CASES = [(path, function, want, layer) for path in FILES
         for function, want, layer in expected(load(path))]


def assert_diagnosed(verdict, want, layer, variant):
    relu_like = variant.activation in ("relu", "leaky_relu")
    if want == "sigma_prime_of_output" and relu_like:
        want = "correct"   # sigma'(sigma(a)) = sigma'(a) for these: nothing to see
    if want in ("correct", "unknown"):
        assert verdict.verdict == want, verdict.text()
        assert verdict.mistake is None
        return
    assert (verdict.verdict, verdict.mistake) == ("mistake", want), verdict.text()
    if layer is not None:
        assert verdict.layer == layer_of(layer, variant), verdict.text()
    assert verdict.hint and verdict.probes_passed < verdict.probes_total


@pytest.mark.parametrize("path, function, want, layer", CASES,
                         ids=[f"{p.stem}-{f}" for p, f, _, _ in CASES])
def test_each_learner_gets_its_verdict_on_every_variant(path, function, want, layer):
    fn = getattr(load(path), function)
    for variant in VARIANTS:
        assert_diagnosed(check(fn, function, variant=variant), want, layer, variant)


def test_every_catalogued_id_has_a_hand_written_learner():
    from manualnn.learn.catalogue import MISTAKES
    covered = {want for _, _, want, _ in CASES}
    assert set(MISTAKES) <= covered
    assert {"correct", "unknown"} <= covered


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_child_process_gives_the_same_verdicts(path):
    """One child per file checks all its functions, on the default variant and on
    float32 with hidden extra probes (a grader's)."""
    want = {f: (w, layer) for f, w, layer in expected(load(path))}
    for variant, extra in ((Variant(), 0), (VARIANTS[1], 1)):
        verdicts = check_file(path, variant=variant, extra_probes=extra)
        assert [v.function for v in verdicts] == list(want)
        for v in verdicts:
            assert_diagnosed(v, *want[v.function], variant)
            assert v.probes_total == (1 + extra) * len(_probe_names(v.function))


def _probe_names(function):
    from manualnn.learn.probes import build
    return build(Variant(), (function,))[function]


def test_unknown_says_which_output_and_layer_disagree_and_what_sigma_prime_got():
    fns = load(FILES[0].parent / "unknown.py")
    v = check(fns.backprop_bias, variant=Variant())
    assert v.verdict == "unknown" and v.layer == 1
    assert "grad W_1" in v.message and "layer 1" in v.message
    wrong = load(FILES[0].parent / "wrong_a.py")
    v = check(wrong.backprop_bias, "backprop_bias", variant=Variant(), lang="zh")
    assert v.mistake == "bias_grad_mean" and "grad b_i" in v.message


def test_a_mistake_made_at_one_layer_only_is_named_with_that_layer():
    import numpy as np

    def backprop(X, y, Ws, sigma, sigma_prime):   # two layers, unrolled: dW1 untransposed
        W1, W2 = Ws
        A1 = X @ W1
        Z2 = sigma(A1)
        E = np.exp(Z2 @ W2 - (Z2 @ W2).max(axis=1, keepdims=True))
        G3 = E / E.sum(axis=1, keepdims=True)
        G3[np.arange(len(y)), y] -= 1
        G3 /= len(y)
        D1 = (G3 @ W2.T) * sigma_prime(A1)
        return [X @ D1, Z2.T @ G3]
    v = check(backprop, variant=Variant(widths=(5, 4, 3)))
    assert (v.mistake, v.layer) == ("missing_transpose", 1), v.text()


def test_a_forward_pass_gone_wrong_is_seen_in_what_sigma_was_handed():
    import numpy as np

    def backprop_bias(X, y, Ws, bs, sigma, sigma_prime):   # the hidden biases forgotten
        Zs, As = [X], []
        for W in Ws[:-1]:
            As.append(Zs[-1] @ W)
            Zs.append(sigma(As[-1]))
        L = Zs[-1] @ Ws[-1] + bs[-1]
        G = np.exp(L - L.max(axis=1, keepdims=True))
        G = G / G.sum(axis=1, keepdims=True) - np.eye(L.shape[1])[y]
        gW, gb = [], []
        for i in reversed(range(len(Ws))):
            gW.insert(0, Zs[i].T @ G / len(y))
            gb.insert(0, G.sum(axis=0) / len(y))
            G = (G @ Ws[i].T) * sigma_prime(As[i - 1]) if i else None
        return gW, gb
    v = check(backprop_bias, variant=Variant())
    assert v.verdict == "unknown" and "sigma's call 1" in v.message, v.message
    wrong = load(FILES[0].parent / "wrong_b.py")
    v = check(wrong.softmax_loss, variant=Variant())
    assert (v.mistake, v.probes_passed, v.probes_total) == ("no_max_subtraction", 2, 3)
