"""`train.fit`: the compiled path trains exactly as the eager engine does."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_mini.errors import NumericOverflowError
from autograd_mini.nn import MLP
from autograd_mini.nn.datasets import make_moons, xor
from autograd_mini.nn.optim import SGD, Adam
from autograd_mini.nn.train import History, fit
from autograd_mini.value import sum_of


def moons_model(seed=1, width=16):
    return MLP(2, [width, width, 1], activation="relu", output_activation="linear", seed=seed)


def params_of(model):
    return np.array([p.data for p in model.parameters()])


@pytest.mark.parametrize(
    "options",
    [
        {"loss": "hinge"},
        {"loss": "hinge", "optimizer": "sgd", "momentum": 0.9, "lr": 0.05},
        {"loss": "hinge", "optimizer": "adam", "alpha": 0.0},
    ],
)
def test_compiled_and_eager_train_identically(options):
    X, y = make_moons(30, noise=0.1, seed=2)
    histories, weights = [], []
    for compiled in (True, False):
        model = moons_model(width=6)
        histories.append(fit(model, X, y, steps=4, compiled=compiled, **options))
        weights.append(params_of(model))
    np.testing.assert_allclose(histories[0].loss, histories[1].loss, rtol=1e-11)
    assert histories[0].accuracy == histories[1].accuracy
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-10, atol=1e-13)


def test_sigmoid_squared_error_on_xor_matches_eager():
    X, y = xor()
    results = []
    for compiled in (True, False):
        model = MLP(2, [3, 1], seed=4)
        history = fit(model, X, y, loss="squared_error", steps=6, lr=0.5, alpha=0.0, compiled=compiled)
        results.append((history.loss, params_of(model)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_moons_demo_trains_and_reports_progress():
    X, y = make_moons(100, noise=0.1)
    model = moons_model()
    seen = []
    history = fit(model, X, y, steps=100, callback=lambda step, loss, acc: seen.append((step, loss, acc)))
    assert isinstance(history, History) and len(history) == 100
    assert [s for s, _, _ in seen] == list(range(100))
    assert [loss for _, loss, _ in seen] == history.loss
    assert history.loss[-1] < 0.1 * history.loss[0]
    assert history.accuracy[-1] >= 0.95
    scores = np.array([model(x).data for x in X])
    assert np.mean((scores > 0) == (np.array(y) == 1)) >= 0.95


def test_custom_loss_and_optimizer_instance():
    X, y = xor()
    results = []
    for compiled in (True, False):
        model = MLP(2, [4, 1], activation="tanh", seed=5)
        opt = SGD(model.parameters(), lr=0.3, momentum=0.5)
        history = fit(
            model, X, y, loss=lambda out, ts: (out - ts[0]) * (out - ts[0]), optimizer=opt, steps=5,
            compiled=compiled, alpha=0.0,
        )
        results.append((history.loss, params_of(model)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_gradients_left_in_grad_are_the_last_steps():
    X, y = make_moons(20, noise=0.1)
    model = moons_model(width=4)
    fit(model, X, y, steps=1, lr=1e-300)  # the update changes nothing measurable
    compiled = [p.grad for p in model.parameters()]
    model2 = moons_model(width=4)
    fit(model2, X, y, steps=1, lr=1e-300, compiled=False)
    np.testing.assert_allclose(compiled, [p.grad for p in model2.parameters()], rtol=1e-11, atol=1e-15)


def test_bad_arguments():
    X, y = make_moons(10)
    model = moons_model(width=2)
    with pytest.raises(ValueError, match="loss"):
        fit(model, X, y, loss="cross_entropy")
    with pytest.raises(ValueError, match="hinge"):
        fit(model, X, [2] * 10)
    with pytest.raises(ValueError, match="X must"):
        fit(model, [[1.0, 2.0, 3.0]] * 10, y)
    with pytest.raises(ValueError, match="one target per example"):
        fit(model, X, y[:5])
    with pytest.raises(ValueError, match="optimizer"):
        fit(model, X, y, optimizer="rmsprop")
    with pytest.raises(ValueError, match="steps"):
        fit(model, X, y, steps=-1)
    with pytest.raises(NumericOverflowError, match="overflows float64"):
        fit(model, X, y, lr=1e308, steps=3, alpha=1e-4)  # parameters near 1e307: their squares overflow
    with pytest.raises(NumericOverflowError, match="step 0 would make a parameter non-finite"):
        # a finite schedule (an infinite rate is a ValueError: test_bad_learning_rates) on inputs
        # large enough that 1e308 * gradient overflows
        big = [[100.0 * v for v in x] for x in X]
        fit(moons_model(width=2), big, y, lr=lambda step, steps: 1e308, steps=3, alpha=0.0)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("lr", [-1.0, 0.0, float("nan"), float("inf")])
def test_bad_fixed_learning_rates_fail_before_training(lr, optimizer):
    X, y = make_moons(10)
    model = moons_model(width=2)
    before = params_of(model)
    message = rf"fit: the learning rate at step 0 must be finite and in \(0.0, inf\), got {lr}"
    with pytest.raises(ValueError, match=message):
        fit(model, X, y, lr=lr, optimizer=optimizer, steps=3)
    assert params_of(model).tolist() == before.tolist()


@pytest.mark.parametrize("bad", [-0.5, 0.0, float("nan"), float("inf"), -float("inf")])
def test_a_schedule_returning_a_bad_rate_names_the_step(bad):
    X, y = make_moons(10)
    model = moons_model(width=2)
    steps_run = []
    with pytest.raises(ValueError, match=rf"learning rate at step 2 must be finite and in \(0.0, inf\), got {bad}"):
        fit(model, X, y, lr=lambda step, steps: 0.1 if step < 2 else bad, steps=4,
            callback=lambda step, loss, acc: steps_run.append(step))
    assert steps_run == [0, 1]  # the two good steps ran, the bad one updated nothing


def test_a_numpy_schedule_is_accepted():
    X, y = xor()
    plain, numpy_model = MLP(2, [3, 1], seed=4), MLP(2, [3, 1], seed=4)
    fit(plain, X, y, loss="squared_error", lr=lambda k, n: 0.5, steps=3)
    fit(numpy_model, X, y, loss="squared_error", lr=lambda k, n: np.float32(0.5), steps=3)
    assert params_of(plain).tolist() == params_of(numpy_model).tolist()


@pytest.mark.parametrize("compiled", [True, False])
def test_squared_error_needs_one_target_per_output(compiled):
    X, _ = xor()
    with pytest.raises(ValueError, match="the model has 2 outputs, got 1 targets per example"):
        fit(MLP(2, [4, 2], seed=0), X, [0.0, 1.0, 1.0, 0.0], loss="squared_error", compiled=compiled)
    with pytest.raises(ValueError, match="the model has 2 outputs, got 3 targets per example"):
        fit(MLP(2, [4, 2], seed=0), X, [[0.0, 1.0, 0.5]] * 4, loss="squared_error", compiled=compiled)
    with pytest.raises(ValueError, match="the model has 1 outputs, got 2 targets per example"):
        fit(MLP(2, [4, 1], seed=0), X, [[0.0, 1.0]] * 4, loss="squared_error", compiled=compiled)


def test_two_output_squared_error_trains_both_outputs():
    X, y = xor()
    one_hot = [[1.0, 0.0] if t == 0 else [0.0, 1.0] for t in y]
    model = MLP(2, [4, 2], seed=0)
    history = fit(model, X, one_hot, loss="squared_error", steps=1, lr=1e-300, alpha=0.0)
    expected = np.mean(
        [sum(0.5 * (t - o.data) ** 2 for o, t in zip(model(x), ts, strict=True)) for x, ts in zip(X, one_hot)]
    )
    assert history.loss[0] == pytest.approx(expected, rel=1e-12)  # eq. (1.4) summed over both outputs
    assert all(p.grad != 0.0 for p in model.layers[-1].neurons[1].w)  # output 1 is trained too


@pytest.mark.parametrize("compiled", [True, False])
def test_hinge_needs_exactly_one_output(compiled):
    X, y = xor()
    with pytest.raises(ValueError, match="hinge loss needs a model with exactly 1 output, got 2 outputs"):
        fit(MLP(2, [4, 2], seed=0), X, y, loss="hinge", compiled=compiled)


def test_fit_steps_optim_adam_itself():
    X, y = make_moons(12, noise=0.1, seed=3)
    fitted = moons_model(width=3)
    fit(fitted, X, y, optimizer="adam", lr=0.02, steps=3, alpha=0.0, compiled=False)
    model = moons_model(width=3)
    opt = Adam(model.parameters(), lr=0.02)
    labels = [1.0 if t == 1 else -1.0 for t in y]
    for _ in range(3):
        opt.zero_grad()
        loss = sum_of([(1.0 - t * model(x)).relu() for x, t in zip(X, labels, strict=True)]) / len(X)
        loss.backward()
        opt.step()
    assert params_of(fitted).tolist() == params_of(model).tolist()


MAZUR = {  # Matt Mazur, "A Step by Step Backpropagation Example": 2-2-2 sigmoid network
    "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
    "after": [0.149780716, 0.19956143, 0.24975114, 0.29950229, 0.35891648, 0.408666186, 0.511301270, 0.561370121],
}


def mazur_model():
    """Mazur's network: the published weights, biases 0.35 (hidden) and 0.60 (outputs)."""
    model = MLP(2, [2, 2], seed=0)  # sigmoid everywhere, as in the example
    for layer, rows, bias in zip(model.layers, MAZUR["weights"], (0.35, 0.60), strict=True):
        for neuron, row in zip(layer.neurons, rows, strict=True):
            for w, value in zip(neuron.w, row, strict=True):
                w.data = value
            neuron.b.data = bias
    return model


@pytest.mark.parametrize("compiled", [True, False])
def test_fit_reproduces_the_textbook_step_by_default(compiled):
    """No hidden penalty: squared error, lr 0.5, plain SGD gives the published numbers (to their digits)."""
    model = mazur_model()
    history = fit(model, [[0.05, 0.10]], [[0.01, 0.99]], loss="squared_error", lr=0.5, steps=1, compiled=compiled)
    assert round(history.loss[0], 9) == 0.298371109  # E_total, eq. (1.4) summed over the outputs
    weights = [w.data for layer in model.layers for neuron in layer.neurons for w in neuron.w]
    for got, published in zip(weights, MAZUR["after"], strict=True):
        digits = len(repr(published).split(".")[1])
        assert round(got, digits) == published
    dw5 = model.layers[1].neurons[0].w[0].grad
    assert round(dw5, 9) == 0.082167041  # the published dE/dw5, left in .grad by the step


def test_alpha_adds_exactly_the_l2_term():
    X, y = xor()
    plain, penalised = MLP(2, [3, 1], seed=4), MLP(2, [3, 1], seed=4)
    squares = sum(p.data * p.data for p in plain.parameters())
    h0 = fit(plain, X, y, loss="squared_error", lr=1e-300, steps=1)
    h1 = fit(penalised, X, y, loss="squared_error", lr=1e-300, steps=1, alpha=0.01)
    assert h1.loss[0] == pytest.approx(h0.loss[0] + 0.01 * squares, rel=1e-12)


def test_parameters_are_written_back_for_callbacks_at_the_end_and_on_errors():
    X, y = make_moons(20, noise=0.1, seed=1)
    model = moons_model(width=3)
    params = model.parameters()
    seen = []
    history = fit(model, X, y, steps=3, lr=0.1, callback=lambda *_: seen.append([p.data for p in params]))
    assert len(history) == 3 and seen[-1] == [p.data for p in params] and seen[0] != seen[1]
    # Without a callback the Values are written once, at the end: same numbers.
    quiet = moons_model(width=3)
    fit(quiet, X, y, steps=3, lr=0.1)
    assert params_of(quiet).tolist() == seen[-1]
    # A failing step leaves the values of the last completed step in the Values.
    failing = moons_model(width=3)
    with pytest.raises(ValueError, match="step 2"):
        fit(failing, X, y, steps=3, lr=lambda k, n: 0.1 if k < 2 else -1.0)
    assert params_of(failing).tolist() == seen[1]


# --- micrograd's lecture loop: targets -1/+1 (issue 19, item 11) --------------------------------
LECTURE_X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_Y = [1.0, -1.0, -1.0, 1.0]


@pytest.mark.parametrize("compiled", [True, False])
def test_fit_warns_when_targets_lie_outside_the_output_range(compiled: bool) -> None:
    model = MLP(3, [4, 4, 1], seed=0)  # sigmoid everywhere: outputs in (0, 1)
    with pytest.warns(UserWarning, match=r"fit: target -1\.0 lies outside \[0, 1\].*activation 'sigmoid'"):
        history = fit(model, LECTURE_X, LECTURE_Y, loss="squared_error", lr=0.05, steps=20, compiled=compiled)
    # and indeed it cannot learn: each -1 target keeps at least 1/2 (0 - (-1))^2 of loss
    assert history.loss[-1] > 0.25
    with pytest.warns(UserWarning, match=r"fit \(the hinge loss reads labels as -1/\+1\): target -1\.0"):
        fit(model, LECTURE_X, [1, 0, 0, 1], loss="hinge", steps=1, compiled=compiled)  # a sigmoid score is never < 0


def test_fit_is_quiet_and_learns_with_tanh_as_in_the_lecture() -> None:
    import warnings

    model = MLP(3, [4, 4, 1], activation="tanh", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(model, LECTURE_X, LECTURE_Y, loss="squared_error", lr=0.1, steps=200)
        fit(MLP(3, [4, 1], output_activation="linear", seed=0), LECTURE_X, [1, 0, 0, 1], loss="hinge", steps=1)
    assert history.loss[-1] < 0.01 * history.loss[0]
    assert [round(model([*x]).data) for x in LECTURE_X] == [1, -1, -1, 1]
