"""The MLP: shapes, dtypes, parameters and the errors of its public methods."""

import numpy as np
import pytest

from manualnn import MLP, get_loss, initialize


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "softplus"])
@pytest.mark.parametrize("loss_name", ["softmax_cross_entropy", "mse", "binary_cross_entropy"])
def test_float32_stays_float32_through_a_step(rng, activation, loss_name):
    net = MLP([6, 8, 5, 4], activation=activation, dropout=0.2, rng=rng)
    X = rng.standard_normal((10, 6)).astype(np.float32)
    y = rng.integers(0, 4, 10) if loss_name == "softmax_cross_entropy" else \
        rng.uniform(size=(10, 4)).astype(np.float32)
    loss = get_loss(loss_name)
    value, grads = net.loss_and_grad(X, y, loss)
    assert isinstance(value, float)
    assert all(p.dtype == np.float32 for p in net.params)
    assert all(g.dtype == np.float32 for g in grads)
    assert net(X).dtype == np.float32 and net.forward(X).dtype == np.float32
    _, G1 = net.backward(np.ones((10, 4), np.float32), input_grad=True)
    assert G1.dtype == np.float32 and G1.shape == (10, 6)
    assert get_loss(loss_name)(net(X), y)[1].dtype == np.float32


def test_shapes_follow_the_lecture(rng):
    net = MLP([784, 400, 10], bias=False, rng=0)
    assert [W.shape for W in net.W] == [(784, 400), (400, 10)]
    assert net.param_names == ["W1", "W2"] and net.b is None
    net = MLP([5, 3], rng=0)
    assert net.L == 1 and net.param_names == ["W1", "b1"]
    assert [p.shape for p in net.params] == [(5, 3), (3,)]


def test_chunked_prediction_equals_one_forward(rng):
    net = MLP([7, 9, 3], dtype="float64", rng=rng)
    X = rng.standard_normal((101, 7))
    np.testing.assert_allclose(net(X, chunk=8), net.forward(X), rtol=1e-13)


def test_the_same_seed_gives_the_same_network():
    a, b = MLP([4, 5, 2], rng=3), MLP([4, 5, 2], rng=3)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    w32 = initialize("he_normal", 4, 5, rng=1, dtype="float32")
    w64 = initialize("he_normal", 4, 5, rng=1, dtype="float64")
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


@pytest.mark.parametrize("name, std", [("he_normal", np.sqrt(2 / 400)),
                                       ("glorot_normal", np.sqrt(2 / 500)),
                                       ("course", 1 / np.sqrt(100)),
                                       ("he_uniform", np.sqrt(6 / 400) / np.sqrt(3)),
                                       ("glorot_uniform", np.sqrt(6 / 500) / np.sqrt(3))])
def test_initializer_scales(name, std):
    W = initialize(name, 400, 100, rng=0, dtype="float64")
    assert W.std() == pytest.approx(std, rel=0.02) and abs(W.mean()) < std / 20


def test_from_weights_shares_the_arrays(rng):
    W1, W2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    net = MLP.from_weights([W1, W2])
    net.W[0] -= 1
    assert net.W[0] is W1 and net.dtype == np.float64
    with pytest.raises(TypeError, match="W, b: expected every array in float64"):
        MLP.from_weights([W1, W2.astype(np.float32)])


@pytest.mark.parametrize("kwargs, error, message", [
    ({"layers": [784]}, ValueError, "layers: expected at least two positive integer widths"),
    ({"layers": [784, 0, 10]}, ValueError, "layers: expected at least two positive"),
    ({"layers": [7.5, 3]}, ValueError, "layers: expected at least two positive"),
    ({"layers": "abc"}, TypeError, "layers: expected a list of integer widths"),
    ({"layers": [4, 5, 2], "activation": ["relu", "tanh"]}, ValueError,
     r"activation: expected one name or a list of 1, got a list of 2"),
    ({"layers": [4, 2], "output": "softmax"}, ValueError, "output: expected one of"),
    ({"layers": [4, 2], "dtype": "int32"}, TypeError, "dtype: expected float32 or float64"),
    ({"layers": [4, 2], "dropout": 1.0}, ValueError, r"dropout: expected a value in \[0, 1\)"),
    ({"layers": [4, 2], "init": "xavier"}, ValueError, "init: expected one of"),
    ({"layers": [4, 2], "rng": "seed"}, TypeError, "rng: expected a numpy.random.Generator"),
])
def test_constructor_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        MLP(**kwargs)


def test_forward_and_backward_reject_bad_input(rng):
    net = MLP([4, 5, 3], rng=0)
    with pytest.raises(ValueError, match=r"X: expected 4 columns, got shape \(2, 5\)"):
        net.forward(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"X: expected a 2-D array, got shape \(4,\)"):
        net.forward(np.zeros(4))
    with pytest.raises(ValueError, match="X: expected finite values, got NaN or infinity"):
        net(np.array([[0, 0, np.inf, 0]]))
    with pytest.raises(ValueError, match=r"X: expected at least one row"):
        net.forward(np.zeros((0, 4)))
    with pytest.raises(TypeError, match=r"X: expected a numeric array"):
        net.forward([["a", "b", "c", "d"]])
    with pytest.raises(RuntimeError, match="backward: call forward first"):
        net.backward(np.zeros((2, 3)))
    net.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"G: expected shape \(2, 3\) to match the last forward"):
        net.backward(np.zeros((3, 3)))
    net.backward(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="each backward uses one forward"):
        net.backward(np.zeros((2, 3)))


def test_set_params_checks_every_array(rng):
    net = MLP([3, 2], rng=0)
    with pytest.raises(ValueError, match=r"W1: expected shape \(3, 2\), got \(2, 3\)"):
        net.set_params([np.zeros((2, 3)), np.zeros(2)])
    with pytest.raises(TypeError, match="b1: expected a float32 or float64 array"):
        net.set_params([np.zeros((3, 2)), np.zeros(2, dtype=int)])
    with pytest.raises(ValueError, match="values: expected 2 arrays, got 1"):
        net.set_params([np.zeros((3, 2))])


@pytest.mark.parametrize("hidden, output, dropout", [
    (["relu"], "identity", 0.0), (["gelu", "tanh"], "sigmoid", 0.3), (["relu"], "identity", 0.5)])
def test_workspace_nbytes_is_what_a_step_allocates(hidden, output, dropout):
    """Memory plans ask the network: its count is the buffers it then makes."""
    layers = [6, 9, 7, 4][:len(hidden) + 2]
    net = MLP(layers, hidden, output, dropout=dropout, dtype="float64", rng=0)
    X = np.random.default_rng(0).standard_normal((13, 6))
    net.loss_and_grad(X, np.arange(13) % 4, get_loss("softmax_cross_entropy"))
    ws = net._ws
    buffers = {id(a): a for a in [*ws.A, *ws.H, *ws.G, ws.Gout, *ws.M.values(),
                                  *ws.Zd.values()]}
    assert net.workspace_nbytes(13) == sum(a.nbytes for a in buffers.values())
    assert MLP.workspace_nbytes_for(layers, hidden + [output], dropout > 0, 8, 13) == \
        net.workspace_nbytes(13)
