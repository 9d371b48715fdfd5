"""Optimizers, schedules and clipping against plain reference code (and torch if present)."""

import json
import math
import tracemalloc

import numpy as np
import pytest

from manualnn.train.optim import OPTIMIZERS, SGD, Adam, AdamW, clip_grad_norm, get_optimizer
from manualnn.train.schedules import SCHEDULES, CosineSchedule, Warmup, get_schedule

SHAPES = [(5, 4), (4,), (4, 3), (3,)]
MASK = [True, False, True, False]
CONFIGS = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.2, "decay_mask": MASK}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.02, "beta1": 0.3, "beta2": 0.9, "eps": 1e-6, "weight_decay": 0.1,
              "decay_mask": MASK}),
    ("adamw", {"lr": 0.01}),
    ("adamw", {"lr": 0.02, "weight_decay": 0.3, "decay_mask": MASK}),
]


def make_params(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype(dtype) for s in SHAPES]


def grad_fn(params):
    """A gradient that depends on the parameters, so trajectories diverge if a step is off."""
    return [np.sin(3 * p) + 0.5 * p + 0.1 * (i + 1) for i, p in enumerate(params)]


def run(opt, n):
    for _ in range(n):
        opt.step(grad_fn(opt.params))
    return opt.params


# -- reference implementations: the textbook formulas, allocating freely ------------------
def ref_sgd(params, n, lr, momentum=0.0, nesterov=False, weight_decay=0.0, decay_mask=None):
    params, bufs = [p.copy() for p in params], [None] * len(params)
    for _ in range(n):
        for i, g in enumerate(grad_fn(params)):
            if decay_mask is None or decay_mask[i]:
                g = g + weight_decay * params[i]
            if momentum:
                bufs[i] = g.copy() if bufs[i] is None else momentum * bufs[i] + g
                g = g + momentum * bufs[i] if nesterov else bufs[i]
            params[i] = params[i] - lr * g
    return params


def ref_adam(params, n, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
             decay_mask=None, decoupled=False):
    params = [p.copy() for p in params]
    m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    for t in range(1, n + 1):
        for i, g in enumerate(grad_fn(params)):
            if decay_mask is None or decay_mask[i]:
                if decoupled:
                    params[i] = params[i] - lr * weight_decay * params[i]
                else:
                    g = g + weight_decay * params[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat, v_hat = m[i] / (1 - beta1 ** t), v[i] / (1 - beta2 ** t)
            params[i] = params[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return params


def reference(name, options, params, n):
    if name == "sgd":
        return ref_sgd(params, n, **options)
    if name == "adamw":
        return ref_adam(params, n, **{"weight_decay": 0.01, **options}, decoupled=True)
    return ref_adam(params, n, **options)


def assert_params_close(got, want, rtol=1e-12):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("name, options", CONFIGS)
def test_matches_reference(name, options):
    start = make_params()
    opt = get_optimizer(name, [p.copy() for p in start], **options)
    assert_params_close(run(opt, 7), reference(name, options, start, 7))


@pytest.mark.parametrize("name, options", CONFIGS)
def test_matches_torch(name, options):
    torch = pytest.importorskip("torch")
    start = make_params()
    ours = run(get_optimizer(name, [p.copy() for p in start], **options), 7)
    tensors = [torch.tensor(p) for p in start]
    opts = {k: v for k, v in options.items() if k not in ("beta1", "beta2", "decay_mask")}
    if "beta1" in options:
        opts["betas"] = (options["beta1"], options["beta2"])
    mask = options.get("decay_mask", [True] * len(start))
    decayed = opts.pop("weight_decay", 0.01 if name == "adamw" else 0.0)
    groups = [{"params": [t for t, d in zip(tensors, mask) if d], "weight_decay": decayed},
              {"params": [t for t, d in zip(tensors, mask) if not d], "weight_decay": 0.0}]
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    topt = cls([g for g in groups if g["params"]], foreach=False, **opts)
    for _ in range(7):
        for t, g in zip(tensors, grad_fn([t.numpy() for t in tensors])):
            t.grad = torch.from_numpy(g)
        topt.step()
    assert_params_close(ours, [t.numpy() for t in tensors])


@pytest.mark.parametrize("name, options", CONFIGS)
def test_state_dict_round_trip_continues_the_trajectory(name, options):
    straight = run(get_optimizer(name, make_params(), **options), 6)
    first = get_optimizer(name, make_params(), **options)
    run(first, 3)
    arrays, meta = first.state_dict()
    meta = json.loads(json.dumps(meta))
    second = get_optimizer(name, [p.copy() for p in first.params], **options)
    second.load_state_dict(arrays, meta)
    assert second.t == 3 and second.lr == first.lr
    for got, want in zip(run(second, 3), straight):
        np.testing.assert_array_equal(got, want)


def test_state_dict_contents_and_copies():
    opt = Adam(make_params(), lr=0.01)
    run(opt, 2)
    arrays, meta = opt.state_dict()
    assert sorted(arrays) == sorted(f"{s}.{i}" for s in "mv" for i in range(4))
    assert meta == {"name": "adam", "t": 2, "lr": 0.01, "weight_decay": 0.0,
                    "decay_mask": [True] * 4, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    run(opt, 1)
    assert not np.array_equal(arrays["m.0"], opt.m[0])   # a copy, not the live buffer
    assert SGD(make_params(), lr=0.1).state_dict()[0] == {}


def test_load_state_dict_rejects_mismatches():
    arrays, meta = SGD(make_params(), lr=0.1, momentum=0.9).state_dict()
    with pytest.raises(ValueError, match=r"meta\['name'\]: expected 'adam', got 'sgd'"):
        Adam(make_params()).load_state_dict(arrays, meta)
    with pytest.raises(ValueError, match=r"meta\['momentum'\]: expected 0.5 .* got 0.9"):
        SGD(make_params(), lr=0.1, momentum=0.5).load_state_dict(arrays, meta)
    target = SGD(make_params(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"arrays: expected the names \['buf.0'"):
        target.load_state_dict({k: a for k, a in arrays.items() if k != "buf.1"}, meta)
    bad = {**arrays, "buf.2": np.zeros((3, 4))}
    with pytest.raises(ValueError, match=r"arrays\['buf.2'\]: expected shape \(4, 3\) and "
                                         r"dtype float64, got shape \(3, 4\)"):
        target.load_state_dict(bad, meta)
    bad = {**arrays, "buf.0": arrays["buf.0"].astype(np.float32)}
    with pytest.raises(ValueError, match="got shape \\(5, 4\\) and dtype float32"):
        target.load_state_dict(bad, meta)
    with pytest.raises(ValueError, match=r"meta\['t'\]: expected a value in \[0"):
        target.load_state_dict(arrays, {**meta, "t": -1})
    assert target.t == 0   # nothing changed by the failed loads


def test_decay_mask_exempts_parameters():
    for opt in (SGD(make_params(), lr=0.1, weight_decay=0.5, decay_mask=MASK),
                AdamW(make_params(), lr=0.1, weight_decay=0.5, decay_mask=MASK)):
        before = [p.copy() for p in opt.params]
        opt.step([np.zeros_like(p) for p in opt.params])
        for p, b, decayed in zip(opt.params, before, MASK):
            assert np.array_equal(p, b) != decayed


@pytest.mark.parametrize("name, options", CONFIGS)
def test_float32_stays_float32(name, options):
    opt = get_optimizer(name, make_params(np.float32), **options)
    opt.lr = np.float64(opt.lr)   # a NumPy scalar lr must not upcast the update
    params = run(opt, 3)
    arrays, _ = opt.state_dict()
    assert all(p.dtype == np.float32 for p in params)
    assert all(a.dtype == np.float32 for a in arrays.values())
    assert_params_close(params, reference(name, options, make_params(np.float32), 3), rtol=1e-4)


@pytest.mark.parametrize("name, options", CONFIGS)
def test_steady_step_allocates_no_arrays(name, options):
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(1000, 1000)).astype(np.float32), np.zeros(1000, np.float32)]
    grads = [np.full_like(p, 0.01) for p in params]
    options = {**options, "decay_mask": [True, False]} if "decay_mask" in options else options
    opt = get_optimizer(name, params, **options)
    schedule = get_schedule("cosine", opt.lr, total_epochs=5, warmup_epochs=1)
    opt.step(grads)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for step in range(4):
            opt.lr = schedule.lr_at(1, step, 4)
            opt.step(grads)
            clip_grad_norm(grads, 1e3)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 64_000, f"{peak} bytes traced; one parameter is {params[0].nbytes}"


# -- validation -----------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda p: SGD(p, lr=0), r"lr: expected a value in \(0, inf\], got 0"),
    (lambda p: SGD(p, lr=0.1, momentum=1.0), r"momentum: expected a value in \[0, 1\), got 1.0"),
    (lambda p: SGD(p, lr=0.1, nesterov=True), "nesterov: expected momentum > 0"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1), r"weight_decay: expected a value in \[0, inf"),
    (lambda p: Adam(p, beta1=1), r"beta1: expected a value in \[0, 1\), got 1"),
    (lambda p: Adam(p, beta2=-0.1), r"beta2: expected a value in \[0, 1\), got -0.1"),
    (lambda p: AdamW(p, eps=0.0), r"eps: expected a value in \(0, inf\], got 0.0"),
    (lambda p: Adam(p, decay_mask=[True]), "decay_mask: expected 4 booleans"),
    (lambda p: Adam([]), "params: expected at least one array"),
    (lambda p: Adam(p + p[:1]), "params: expected distinct arrays"),
    (lambda p: Adam(p[0]), "params: expected a list of arrays, got a single array"),
    (lambda p: get_optimizer("rmsprop", p), r"optimizer: expected one of \['adam', 'adamw', "),
])
def test_constructor_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make(make_params())


def test_type_errors():
    with pytest.raises(TypeError, match="sgd: unexpected option 'beta1'"):
        get_optimizer("sgd", make_params(), lr=0.1, beta1=0.9)
    with pytest.raises(TypeError, match="params\\[1\\]: expected a float32 or float64 array"):
        SGD([np.zeros(3), [1.0, 2.0]], lr=0.1)
    with pytest.raises(TypeError, match="lr: expected a number, got str '0.1'"):
        SGD(make_params(), lr="0.1")
    with pytest.raises(TypeError, match="nesterov: expected True or False"):
        SGD(make_params(), lr=0.1, momentum=0.9, nesterov=1)


def test_lr_setter_and_step_errors():
    opt = Adam(make_params())
    with pytest.raises(ValueError, match="lr: expected a value in"):
        opt.lr = -0.1
    grads = grad_fn(opt.params)
    with pytest.raises(ValueError, match="grads: expected 4 arrays .* got 3"):
        opt.step(grads[:3])
    with pytest.raises(ValueError, match=r"grads\[2\]: expected shape \(4, 3\) and dtype "
                                         r"float64, got shape \(3, 4\)"):
        opt.step(grads[:2] + [grads[2].T] + grads[3:])
    with pytest.raises(ValueError, match=r"grads\[0\]: .* got shape \(5, 4\) and dtype float32"):
        opt.step([grads[0].astype(np.float32)] + grads[1:])
    assert opt.t == 0


def test_step_checks_again_whatever_changed_since_the_last_checked_step():
    """A step skips the full check only for the very arrays it checked last time, with the
    same shapes and dtypes: a new array, or one reshaped or retyped in place, is checked."""
    opt = Adam(make_params())
    grads = grad_fn(opt.params)
    opt.step(grads)
    opt.step(grads)
    assert opt.t == 2
    with pytest.raises(ValueError, match=r"grads\[2\]: expected shape \(4, 3\)"):
        opt.step(grads[:2] + [np.zeros((3, 4))] + grads[3:])
    grads[2].shape = (3, 4)   # in place: the same array object, another shape
    with pytest.raises(ValueError, match=r"grads\[2\]: expected shape \(4, 3\)"):
        opt.step(grads)
    grads[2].shape = (4, 3)
    with pytest.raises(ValueError, match="grads: expected 4 arrays"):
        opt.step(grads[:3])
    assert opt.t == 2


# -- clipping -------------------------------------------------------------------------------
def test_clip_grad_norm():
    grads = [np.array([3.0, 0.0]), np.array([[4.0]])]
    assert clip_grad_norm(grads, 1.0) == 5.0
    np.testing.assert_allclose(grads[0], [3 / (5 + 1e-6), 0.0], rtol=1e-15)
    np.testing.assert_allclose(grads[1], [[4 / (5 + 1e-6)]], rtol=1e-15)
    small = [np.array([0.3, 0.4], np.float32)]
    assert clip_grad_norm(small, 1.0) == pytest.approx(0.5)
    assert small[0].dtype == np.float32 and np.array_equal(small[0], np.float32([0.3, 0.4]))
    nan = [np.array([np.nan, 1.0])]
    assert math.isnan(clip_grad_norm(nan, 1.0)) and nan[0][1] == 1.0
    with pytest.raises(ValueError, match=r"max_norm: expected a value in \(0, inf\], got 0"):
        clip_grad_norm(grads, 0)
    with pytest.raises(TypeError, match=r"grads\[0\]: expected a float32 or float64 array"):
        clip_grad_norm([[1.0]], 1.0)


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    grads = make_params()
    tensors = [torch.tensor(g, requires_grad=True) for g in grads]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g)
    want = torch.nn.utils.clip_grad_norm_(tensors, 0.5).item()
    assert clip_grad_norm(grads, 0.5) == pytest.approx(want, rel=1e-14)
    assert_params_close(grads, [t.grad.numpy() for t in tensors], rtol=1e-14)


# -- schedules ------------------------------------------------------------------------------
def test_schedule_values():
    assert set(SCHEDULES) == {"constant", "step", "cosine"} and set(OPTIMIZERS) == {
        "sgd", "adam", "adamw"}
    assert get_schedule("constant", 0.1).lr_at(7, 3, 10) == 0.1
    step = get_schedule("step", 1.0, step_size=3, gamma=0.5)
    assert [step.lr_at(e) for e in (0, 2, 3, 5, 6, 9)] == [1, 1, 0.5, 0.5, 0.25, 0.125]
    cos = get_schedule("cosine", 1.0, total_epochs=10, min_lr=0.1)
    assert cos.lr_at(0) == 1.0 and cos.lr_at(5) == pytest.approx(0.55)
    assert cos.lr_at(10) == pytest.approx(0.1) and cos.lr_at(25) == pytest.approx(0.1)
    want = 0.1 + 0.9 * (1 + math.cos(math.pi * 2.5 / 10)) / 2
    assert cos.lr_at(2, 1, 2) == pytest.approx(want, rel=1e-15)   # per step: t = 2.5


def test_warmup_composes():
    warm = get_schedule("constant", 1.0, warmup_epochs=2)
    assert isinstance(warm, Warmup)
    assert [warm.lr_at(e) for e in (0, 1, 2, 9)] == [0.5, 1.0, 1.0, 1.0]
    assert warm.lr_at(0, 0, 4) == 1 / 8 and warm.lr_at(1, 3, 4) == 1.0
    warm_step = get_schedule("step", 1.0, warmup_epochs=1, step_size=1, gamma=0.5)
    assert [warm_step.lr_at(0, s, 2) for s in (0, 1)] == [0.5, 1.0]
    assert warm_step.lr_at(1, 0, 2) == 0.5 and warm_step.lr_at(2, 1, 2) == 0.25
    warm_cos = Warmup(CosineSchedule(1.0, total_epochs=4), 1)
    assert warm_cos.lr_at(0, 0, 2) == pytest.approx(0.5 * (1 + math.cos(0)) / 2)
    assert warm_cos.lr_at(2) == pytest.approx(0.5)


def test_schedule_errors():
    with pytest.raises(ValueError, match="schedule: expected one of"):
        get_schedule("exponential", 0.1)
    with pytest.raises(TypeError, match="cosine: unexpected option 'T_max'"):
        get_schedule("cosine", 0.1, T_max=5)
    with pytest.raises(ValueError, match=r"min_lr: expected a value in \[0, 0.1\], got 0.2"):
        get_schedule("cosine", 0.1, total_epochs=5, min_lr=0.2)
    with pytest.raises(ValueError, match=r"step_size: expected a value in \[1, inf\], got 0"):
        get_schedule("step", 0.1, step_size=0)
    with pytest.raises(ValueError, match=r"warmup_epochs: expected a value in \[0, inf\]"):
        get_schedule("constant", 0.1, warmup_epochs=-1)
    with pytest.raises(ValueError, match=r"step: expected a value in \[0, 3\], got 4"):
        get_schedule("constant", 0.1).lr_at(0, 4, 4)
    with pytest.raises(TypeError, match="epoch: expected an integer"):
        get_schedule("constant", 0.1).lr_at(1.5)


def test_schedules_match_torch():
    torch = pytest.importorskip("torch")
    for ours, make in [
        (get_schedule("step", 0.1, step_size=3, gamma=0.3),
         lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.3)),
        (get_schedule("cosine", 0.1, total_epochs=8, min_lr=0.01),
         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.01)),
    ]:
        topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched = make(topt)
        for epoch in range(9):
            assert ours.lr_at(epoch) == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
            topt.step()
            sched.step()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_too_small_to_matter_is_flushed_to_zero(dtype, monkeypatch):
    """A moment that decays towards the subnormal range is set to 0 every FLUSH_EVERY
    steps; every other entry is left exactly as an unflushed step leaves it."""
    from manualnn.train import optim, optimizer
    tiny = np.finfo(dtype).tiny

    def run(flush_every):
        monkeypatch.setattr(optimizer, "FLUSH_EVERY", flush_every)
        opt = optim.Adam([np.zeros(4, dtype)])
        for _ in range(31):
            opt.step([np.zeros(4, dtype)])
        opt.m[0][...] = [tiny / 8, tiny * 4, 1e-3, -2.5e-7]   # subnormal, tiny, normal ...
        opt.step([np.zeros(4, dtype)])
        return opt.m[0]

    flushed, plain = run(32), run(10**9)
    assert plain[0] != 0 and plain[1] != 0
    np.testing.assert_array_equal(flushed, [0, 0, plain[2], plain[3]])


@pytest.mark.parametrize("cls, options", [
    (SGD, {"lr": 0.1}), (SGD, {"lr": 0.1, "momentum": 0.9}), (Adam, {}), (AdamW, {})])
def test_state_nbytes_is_what_the_class_says_before_it_exists(cls, options):
    """Memory plans ask the optimizer class before any parameter is made."""
    params = [np.zeros((5, 3)), np.zeros(3)]
    opt = cls(params, **options)
    per_param = cls.state_arrays_per_param(**options)
    assert opt.state_nbytes() == per_param * sum(p.nbytes for p in params)
    assert opt.state_nbytes() == sum(a.nbytes for a in opt.state_dict()[0].values())
