"""Tests of bplab_checks.diagnose: each diagnosis fires on its mistake, never on a right answer."""

from __future__ import annotations

import re

import numpy as np
import pytest
from bplab_checks import diagnose as dg
from bplab_checks.diagnose import diagnose, diagnose_directional, diagnose_optimizer, explain
from bplab_checks.diagnose import findings as dg_findings
from bplab_checks.diagnose import optimizer as dg_optimizer
from bplab_checks.gradcheck import directional_derivatives
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import hw1, hw2

TAG = re.compile(r"\(diagnosis: ([a-z0-9_]+)\)$")


def code_of(sentence: str | None) -> str | None:
    if sentence is None:
        return None
    assert "\n" not in sentence, "a diagnosis is one sentence"
    match = TAG.search(sentence)
    assert match, f"no diagnosis tag at the end of: {sentence!r}"
    assert match.group(1) in dg.CODES, f"undocumented code {match.group(1)}"
    return match.group(1)


@pytest.fixture
def mm():
    """MatMul inputs with N=4, D=3, M=5 (non-square everywhere) and the right gradients."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    dout = rng.standard_normal((4, 5))
    return A, B, dout, dout @ B.T, A.T @ dout


def mm_diag(actual, expected, mm, what="dB", **kw):
    A, B, dout, dA, dB = mm
    return diagnose(actual, expected, block="MatMul", what=what, inputs=(A, B), dout=dout, **kw)


# ---- value diagnoses, one test each ---------------------------------------------------------


def test_transposed_non_square(mm):
    A, B, dout, dA, dB = mm
    msg = mm_diag(dout.T @ A, dB, mm)
    assert code_of(msg) == "transposed"
    assert "dB" in msg and "MatMul" in msg and "(5, 3)" in msg


def test_transposed_square():
    rng = np.random.default_rng(1)
    e = rng.standard_normal((4, 4))
    assert code_of(diagnose(e.T.copy(), e, block="MatMul", what="dA")) == "transposed"


def test_swapped_different_shapes(mm):
    A, B, dout, dA, dB = mm
    msg = mm_diag(dB, dA, mm, what="dA", actual_all=(dB, dA), expected_all=(dA, dB), index=0,
                  names=("dA", "dB"))
    assert code_of(msg) == "swapped"
    assert "dB" in msg


def test_swapped_same_shapes_wins_over_sign():
    d = np.random.default_rng(2).standard_normal((3, 2))
    msg = diagnose(-d, d, block="Subtract", what="dA", actual_all=(-d, d), expected_all=(d, -d),
                   index=0)
    assert code_of(msg) == "swapped"


def test_wrong_sign(mm):
    A, B, dout, dA, dB = mm
    assert code_of(mm_diag(-dB, dB, mm)) == "wrong_sign"


@pytest.mark.parametrize(
    ("factor", "code", "word"),
    [
        (0.5, "missing_factor_2", "half"),
        (2.0, "extra_factor_2", "twice"),
        (4.0, "sum_instead_of_mean", "N = 4"),
        (0.25, "mean_instead_of_sum", "N = 4"),
        (20.0, "sum_instead_of_mean", "20, the number of entries"),
        (3.7, "constant_factor", "3.7"),
        (8.0, "constant_factor", "2 x N"),
    ],
)
def test_constant_factors(mm, factor, code, word):
    A, B, dout, dA, dB = mm
    msg = mm_diag(factor * dB, dB, mm)
    assert code_of(msg) == code
    assert word in msg


def test_upstream_ignored_from_students_local(mm):
    A, B, dout, dA, dB = mm
    local = A.T @ np.ones_like(dout)
    assert code_of(mm_diag(local, dB, mm, local=local)) == "upstream_ignored"


def test_upstream_ignored_from_reference():
    rng = np.random.default_rng(3)
    X, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    wrong = 2 * X  # Square's local derivative, dout forgotten
    msg = diagnose(wrong, 2 * X * dout, block="Square", what="dX", inputs=(X,), dout=dout,
                   reference=hw1.Square, index=0)
    assert code_of(msg) == "upstream_ignored"


def test_upstream_ignored_scalar_dout_in_sum():
    X = np.random.default_rng(4).standard_normal((3, 2))
    msg = diagnose(np.ones_like(X), np.full(X.shape, 0.7), block="Sum", what="dX", inputs=(X,),
                   dout=0.7, local=np.ones_like(X))
    assert code_of(msg) == "upstream_ignored"


def test_batch_not_summed():
    dout = np.random.default_rng(5).standard_normal((4, 3))
    msg = diagnose(dout, dout.sum(axis=0), block="Add", what="db", dout=dout)
    assert code_of(msg) == "batch_not_summed"
    assert "(4, 3)" in msg and "(3,)" in msg


def test_wrong_axis():
    dout = np.random.default_rng(6).standard_normal((4, 3))
    msg = diagnose(dout.sum(axis=1), dout.sum(axis=0), block="Add", what="db", dout=dout)
    assert code_of(msg) == "wrong_axis"
    assert "axis 0" in msg


def test_broadcast_shape():
    rng = np.random.default_rng(7)
    y_pred, y_true = rng.standard_normal((5, 1)), rng.standard_normal(5)
    wrong = 2 * (y_pred - y_true) / 5  # (5, 1) - (5,) -> (5, 5)
    msg = diagnose(wrong, 2 * (y_pred - y_true[:, None]) / 5, block="mse_loss", what="dy_pred")
    assert code_of(msg) == "broadcast_shape"


def test_wrong_shape_right_values():
    b = np.random.default_rng(8).standard_normal(3)
    msg = diagnose(b[None, :], b, block="Add", what="db")
    assert code_of(msg) == "wrong_shape"
    assert "right values" in msg


def test_wrong_shape_other():
    msg = diagnose(np.zeros((2, 7)), np.ones((3, 4)), block="MatMul", what="out")
    assert code_of(msg) == "wrong_shape"


def test_integer_dtype():
    e = np.arange(6.0).reshape(2, 3) + 0.5
    assert code_of(diagnose(e.astype(int), e, block="ReLU", what="out")) == "wrong_dtype"


def test_low_precision():
    e = np.random.default_rng(9).standard_normal((3, 4))
    assert code_of(diagnose(e.astype(np.float32), e, block="Tanh", what="out")) == "low_precision"
    assert code_of(diagnose(e.astype(np.float16), e, block="Tanh", what="out")) == "low_precision"


def test_wrong_type():
    e = np.ones((2, 3))
    assert code_of(diagnose(None, e, block="ReLU", what="dX")) == "wrong_type"
    assert code_of(diagnose("oops", e, block="ReLU", what="dX")) == "wrong_type"


def test_nan_or_inf():
    e = np.ones((2, 3))
    a = e.copy()
    a[1, 2] = np.inf
    msg = diagnose(a, e, block="Sigmoid", what="out")
    assert code_of(msg) == "nan_or_inf" and "1 of 6" in msg


def test_relu_at_zero():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((3, 4))
    X[0, 1] = X[2, 3] = 0.0
    dout = rng.standard_normal((3, 4))
    msg = diagnose(dout * (X >= 0), dout * (X > 0), block="ReLU", what="dX", inputs=(X,),
                   dout=dout)
    assert code_of(msg) == "relu_at_zero"
    assert "2 entries" in msg


def test_sigmoid_derivative_applied_to_output():
    rng = np.random.default_rng(11)
    X, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    s = 1 / (1 + np.exp(-X))
    ss = 1 / (1 + np.exp(-s))
    msg = diagnose(dout * ss * (1 - ss), dout * s * (1 - s), block="Sigmoid", what="dX",
                   inputs=(X,), dout=dout, reference=hw1.Sigmoid, index=0)
    assert code_of(msg) == "applied_twice"


def test_tanh_local_derivative_squared():
    rng = np.random.default_rng(12)
    X, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    loc = 1 - np.tanh(X) ** 2
    msg = diagnose(dout * loc * loc, dout * loc, block="Tanh", what="dX", inputs=(X,),
                   dout=dout, reference=hw2.Tanh, index=0)
    assert code_of(msg) == "applied_twice"


def test_unrecognised_mistake_gives_none(mm):
    A, B, dout, dA, dB = mm
    wrong = dB + np.random.default_rng(13).standard_normal(dB.shape)
    assert mm_diag(wrong, dB, mm) is None


def test_messages_do_not_show_expected_values(mm):
    A, B, dout, dA, dB = mm
    for wrong in (-dB, 0.5 * dB, dout.T @ A, 3.7 * dB):
        msg = mm_diag(wrong, dB, mm)
        for value in dB.ravel():
            assert f"{value:.4g}" not in msg


def test_never_raises_on_hostile_values():
    class Hostile:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("boom")

        def __len__(self):
            raise RuntimeError("boom")

    e = np.ones((2, 2))
    assert code_of(diagnose(Hostile(), e, block="ReLU", what="dX")) == "wrong_type"
    assert diagnose(e * 2, e, block="ReLU", what="dX", inputs=(Hostile(),),
                    reference=Hostile()) is not None
    assert diagnose(np.ones(3), object(), block="ReLU", what="dX") is None


# ---- explain --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(dg_findings._EXPLAIN))
def test_explain_every_code(code):
    msg = explain(code, block="Sigmoid", what="dX")
    assert code_of(msg) == code
    assert msg.startswith("Sigmoid") or msg.startswith("dX")
    assert "?" not in msg.split("(diagnosis")[0] or code in ("wrong_shape",)


def test_explain_details():
    assert "X in place" in explain("mutates_input", block="ReLU", what="X")
    msg = explain("wrong_shape", block="Add", what="db", actual_shape=(4, 3), expected_shape=(3,))
    assert "(4, 3)" in msg and "(3,)" in msg
    assert code_of(explain("wrong_dtype", block="Add", what="db", dtype="float32")) == (
        "low_precision")
    assert code_of(explain("wrong_dtype", block="Add", what="db", dtype="int64")) == "wrong_dtype"
    assert explain("not_implemented", block="MatMul", what="MatMul.forward").startswith(
        "MatMul.forward is not written yet")
    assert explain("made_up_code", block="X").endswith("(diagnosis: made_up_code)")


# ---- optimizers ----------------------------------------------------------------------------


def run_opt(cls, hyper, start, grads):
    p = {k: v.copy() for k, v in start.items()}
    opt = cls(**hyper)
    for g in grads:
        opt.step(p, {k: v.copy() for k, v in g.items()})
    return p


@pytest.fixture
def opt_case():
    rng = np.random.default_rng(14)
    start = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    grads = [{k: rng.standard_normal(v.shape) for k, v in start.items()} for _ in range(4)]
    return start, grads


def opt_diag(actual, expected, name, start, grads, hyper, cls=None):
    return diagnose_optimizer(actual, expected, optimizer=name, start=start, grads=grads,
                              hyper=hyper, reference_cls=cls)


@pytest.mark.parametrize("name", ["SGD", "Momentum", "RMSprop", "Adam"])
def test_optimizer_right_answer_not_diagnosed(opt_case, name):
    start, grads = opt_case
    cls = getattr(hw2, name)
    hyper = {"lr": 0.05}
    e = run_opt(cls, hyper, start, grads)
    assert opt_diag(e, e, name, start, grads, hyper, cls) is None


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Adam"])
def test_optimizer_wrong_sign(opt_case, name):
    start, grads = opt_case
    hyper = {"lr": 0.05}
    e = run_opt(getattr(hw2, name), hyper, start, grads)
    wrong = {k: 2 * start[k] - e[k] for k in start}
    assert code_of(opt_diag(wrong, e, name, start, grads, hyper)) == "optimizer_wrong_sign"


def test_optimizer_step_scale(opt_case):
    start, grads = opt_case
    hyper = {"lr": 0.05}
    e = run_opt(hw2.SGD, hyper, start, grads)
    wrong = run_opt(hw2.SGD, {"lr": 0.05 ** 2}, start, grads)
    assert code_of(opt_diag(wrong, e, "SGD", start, grads, hyper)) == "optimizer_step_scale"


def test_adam_no_bias_correction(opt_case):
    start, grads = opt_case
    hyper = {"lr": 0.01}
    e = run_opt(hw2.Adam, hyper, start, grads)
    wrong = dg_optimizer._adam_variant(start, grads, hyper, correct_m=False, correct_v=False)
    assert code_of(opt_diag(wrong, e, "Adam", start, grads, hyper)) == "no_bias_correction"
    half = dg_optimizer._adam_variant(start, grads, hyper, correct_v=False)
    assert code_of(opt_diag(half, e, "Adam", start, grads, hyper)) == "partial_bias_correction"


def test_momentum_state_reset(opt_case):
    start, grads = opt_case
    hyper = {"lr": 0.05}
    e = run_opt(hw2.Momentum, hyper, start, grads)
    wrong = run_opt(hw2.SGD, hyper, start, grads)  # v rebuilt from zero each step = plain SGD
    msg = opt_diag(wrong, e, "Momentum", start, grads, hyper, hw2.Momentum)
    assert code_of(msg) == "state_reset"


def test_adam_step_count_per_key(opt_case):
    start, grads = opt_case
    hyper = {"lr": 0.05}
    e = run_opt(hw2.Adam, hyper, start, grads)
    p = {k: v.copy() for k, v in start.items()}
    opt = hw2.Adam(**hyper)
    for g in grads:
        for k in p:
            opt.step({k: p[k]}, {k: g[k]})
    assert code_of(opt_diag(p, e, "Adam", start, grads, hyper, hw2.Adam)) == "step_count_per_key"


def test_rmsprop_state_shared():
    rng = np.random.default_rng(15)
    start = {"W1": rng.standard_normal((2, 3)), "W2": rng.standard_normal((2, 3))}
    grads = [{k: rng.standard_normal((2, 3)) for k in start} for _ in range(3)]
    hyper = {"lr": 0.01}
    e = run_opt(hw2.RMSprop, hyper, start, grads)
    p = {k: v.copy() for k, v in start.items()}
    s = np.zeros((2, 3))
    for g in grads:
        for k in p:
            s = 0.9 * s + 0.1 * g[k] ** 2
            p[k] = p[k] - 0.01 * g[k] / (np.sqrt(s) + 1e-8)
    msg = opt_diag(p, e, "RMSprop", start, grads, hyper, hw2.RMSprop)
    assert code_of(msg) == "state_shared"


# ---- correct answers are never diagnosed (property tests) ----------------------------------

shapes = st.tuples(st.integers(2, 5), st.integers(2, 5)).filter(lambda s: s[0] != s[1])
FAST = settings(max_examples=60)  # the shared profile (conftest.py), fewer examples


@FAST
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(
    ["normal", "zeros", "constant", "ones", "symmetric", "sparse"]))
def test_equal_values_are_never_diagnosed(shape, seed, kind):
    rng = np.random.default_rng(seed)
    e = {
        "normal": rng.standard_normal(shape),
        "zeros": np.zeros(shape),
        "constant": np.full(shape, rng.standard_normal()),
        "ones": np.ones(shape),
        "symmetric": (lambda m: m + m.T)(rng.standard_normal((shape[0], shape[0]))),
        "sparse": rng.standard_normal(shape) * (rng.random(shape) < 0.2),
    }[kind]
    dout = np.ones(e.shape) if kind == "ones" else rng.standard_normal(e.shape)
    X = rng.standard_normal(e.shape) * (rng.random(e.shape) < 0.5)  # many exact zeros
    variants = [
        e.copy(), np.asfortranarray(e), e.T.T, list(map(list, e)), e * (1 + 1e-13),
        e + 1e-14 * rng.standard_normal(e.shape) * (np.abs(e).max() + 1),
    ]
    for a in variants:
        for ref in (None, hw1.ReLU, hw1.Sigmoid):
            msg = diagnose(a, e, block="Blk", what="dX", inputs=(X,), dout=dout, reference=ref,
                           local=e, actual_all=(a, e), expected_all=(e, e), index=0)
            assert msg is None, msg


ONE_INPUT = {"Sigmoid": hw1.Sigmoid, "ReLU": hw1.ReLU, "Square": hw1.Square, "Tanh": hw2.Tanh,
             "LeakyReLU": hw2.LeakyReLU}


def alt_backward(name, X, dout):
    """Other correct ways of writing each block's gradient (not the reference's way)."""
    if name == "Sigmoid":
        s = 0.5 * (1 + np.tanh(X / 2))
        return np.einsum("ij,ij->ij", dout, s - s * s)
    if name == "ReLU":
        return np.where(X > 0, dout, 0.0)
    if name == "Square":
        return dout * X + X * dout
    if name == "Tanh":
        return dout / np.cosh(X) ** 2
    return np.where(X > 0, 1.0, 0.01) * dout


@FAST
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), name=st.sampled_from(sorted(ONE_INPUT)),
       scale=st.sampled_from([0.1, 1.0, 10.0]))
def test_correct_blocks_written_differently_are_never_diagnosed(shape, seed, name, scale):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape) * scale
    X[0, 0] = 0.0  # the kink
    dout = rng.standard_normal(shape)
    ref = ONE_INPUT[name]
    _, cache = ref.forward(X.copy())
    grads = ref.backward(dout.copy(), cache)
    e = grads[0] if isinstance(grads, tuple | list) else grads
    a = alt_backward(name, X, dout)
    local = alt_backward(name, X, np.ones(shape))
    msg = diagnose(a, e, block=name, what="dX", inputs=(X,), dout=dout, reference=ref,
                   local=local, actual_all=(a,), expected_all=(e,), index=0)
    assert msg is None, msg


@FAST
@given(n=st.integers(2, 6), d=st.integers(2, 6), m=st.integers(2, 6),
       seed=st.integers(0, 2**31 - 1))
def test_correct_matmul_written_differently_is_never_diagnosed(n, d, m, seed):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((n, d)), rng.standard_normal((d, m))
    dout = rng.standard_normal((n, m))
    dA, dB = dout @ B.T, A.T @ dout
    alt = (np.einsum("nm,dm->nd", dout, B), np.dot(A.T, dout))
    for k, (a, e) in enumerate(zip(alt, (dA, dB), strict=True)):
        msg = diagnose(a, e, block="MatMul", what=("dA", "dB")[k], inputs=(A, B), dout=dout,
                       reference=hw1.MatMul, actual_all=alt, expected_all=(dA, dB), index=k,
                       local=(np.ones((n, m)) @ B.T, A.T @ np.ones((n, m)))[k])
        assert msg is None, msg


# ---- explain("wrong_shape") refined from shapes ---------------------------------------------


def test_shape_facts_transposed_and_not_summed_and_broadcast():
    def code(**details):
        return code_of(explain("wrong_shape", block="Add", what="Add.backward: db", **details))

    assert code(actual_shape=(5, 4), expected_shape=(4, 5)) == "transposed"
    assert code(actual_shape=(3, 4), expected_shape=(4,)) == "batch_not_summed"
    assert code(actual_shape=(4,), expected_shape=()) == "batch_not_summed"
    assert code(actual_shape=(5, 5), expected_shape=(5, 1)) == "broadcast_shape"
    assert code(actual_shape=(2, 7), expected_shape=(3, 4)) == "wrong_shape"


def test_shape_facts_swapped_needs_both_positions():
    shapes = {"expected_shapes": [(3, 4), (4, 5)], "index": 0, "names": ["dA", "dB"]}
    msg = explain("wrong_shape", block="MatMul", what="dA", actual_shape=(4, 5),
                  expected_shape=(3, 4), actual_shapes=[(4, 5), (3, 4)], **shapes)
    assert code_of(msg) == "swapped" and "dB" in msg
    msg = explain("wrong_shape", block="MatMul", what="dA", actual_shape=(4, 5),
                  expected_shape=(3, 4), actual_shapes=[(4, 5), (4, 5)], **shapes)
    assert code_of(msg) == "wrong_shape"


def test_shape_facts_wrong_axis_needs_values():
    dout = np.random.default_rng(16).standard_normal((3, 4))
    msg = explain("wrong_shape", block="Add", what="db", actual_shape=(3,), expected_shape=(4,),
                  actual=dout.sum(axis=1), dout=dout)
    assert code_of(msg) == "wrong_axis"
    msg = explain("wrong_shape", block="Add", what="db", actual_shape=(3,), expected_shape=(4,),
                  actual=np.ones(3), dout=dout)
    assert code_of(msg) == "wrong_shape"


def test_docs_list_every_code():
    from checks_env import ROOT

    text = (ROOT / "docs" / "diagnoses.md").read_text()
    for code in dg.CODES:
        assert f"`{code}`" in text, f"docs/diagnoses.md does not list {code}"
    assert set(dg_findings._EXPLAIN) <= set(dg.CODES)


# ---- diagnose_directional: public checks know only directional central differences -----------


def _matmul_checks(A, B, dout, dA, dB, seed=0):
    """Directional checks of claimed (dA, dB) for f = sum((A @ B) * dout)."""
    fa = directional_derivatives(lambda a: float(np.sum((a @ B) * dout)), A, dA, seed=seed)
    fb = directional_derivatives(lambda b: float(np.sum((A @ b) * dout)), B, dB, seed=seed + 1)
    return fa, fb


def dir_diag(actual, check, mm, what="dB", **kw):
    A, B, dout, _, _ = mm
    return diagnose_directional(actual, check, block="MatMul", what=what, inputs=(A, B),
                                dout=dout, **kw)


@pytest.mark.parametrize(
    ("factor", "code", "word"),
    [
        (-1.0, "wrong_sign", "sign"),
        (0.5, "missing_factor_2", "half"),
        (2.0, "extra_factor_2", "twice"),
        (4.0, "sum_instead_of_mean", "N = 4"),
        (0.25, "mean_instead_of_sum", "N = 4"),
        (3.7, "constant_factor", "3.7"),
    ],
)
def test_directional_factors(mm, factor, code, word):
    A, B, dout, dA, dB = mm
    _, check = _matmul_checks(A, B, dout, dA, factor * dB)
    msg = dir_diag(factor * dB, check, mm)
    assert code_of(msg) == code
    assert word in msg and "dB" in msg and "MatMul" in msg


def test_directional_transposed_square():
    rng = np.random.default_rng(7)
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    dout = rng.standard_normal((3, 4))
    wrong = (A.T @ dout).T
    _, check = _matmul_checks(A, B, dout, dout @ B.T, wrong)
    msg = diagnose_directional(wrong, check, block="MatMul", what="dB", inputs=(A, B), dout=dout)
    assert code_of(msg) == "transposed"


def test_directional_swapped_needs_both_positions():
    rng = np.random.default_rng(8)
    A, B, dout = (rng.standard_normal((3, 2)) for _ in range(3))

    def checks(dA, dB):
        fa = directional_derivatives(lambda a: float(np.sum((a - B) * dout)), A, dA, seed=0)
        fb = directional_derivatives(lambda b: float(np.sum((A - b) * dout)), B, dB, seed=1)
        return fa, fb

    fa, fb = checks(-dout, dout)  # (dB, dA) returned in each other's places
    msg = diagnose_directional(-dout, fa, block="Subtract", what="dA", inputs=(A, B), dout=dout,
                               others=[("dB", dout, fb)])
    assert code_of(msg) == "swapped" and "dB" in msg
    fa, fb = checks(dout, dout)  # dB = +dout: only one position is wrong, so a sign error
    msg = diagnose_directional(dout, fb, block="Subtract", what="dB", inputs=(A, B), dout=dout,
                               others=[("dA", dout, fa)])
    assert code_of(msg) == "wrong_sign"


def test_directional_upstream_ignored_only_with_a_verified_local(mm):
    A, B, dout, dA, dB = mm
    local = A.T @ np.ones_like(dout)
    _, check = _matmul_checks(A, B, dout, dA, local)
    assert code_of(dir_diag(local, check, mm, local=local)) == "upstream_ignored"
    assert code_of(dir_diag(local, check, mm)) is None  # no local: nothing to say
    ones = np.ones_like(dout)  # with dout = ones, the local derivative is the right answer
    msg = diagnose_directional(local, check, block="MatMul", what="dB", inputs=(A, B),
                               dout=ones, local=local)
    assert code_of(msg) != "upstream_ignored"


def test_directional_nan_and_unrecognised(mm):
    A, B, dout, dA, dB = mm
    bad = dB.copy()
    bad[1, 2] = np.nan
    _, check = _matmul_checks(A, B, dout, dA, bad)
    assert code_of(dir_diag(bad, check, mm)) == "nan_or_inf"
    wrong = dB + np.random.default_rng(9).standard_normal(dB.shape)
    _, check = _matmul_checks(A, B, dout, dA, wrong)
    assert dir_diag(wrong, check, mm) is None


def test_directional_never_raises_on_hostile_values(mm):
    _, check = _matmul_checks(*mm)
    for hostile in (None, "dB", {"a": 1}, object(), np.array(["x"]), np.zeros((2, 2))):
        dir_diag(hostile, check, mm)  # returns a sentence or None, never raises
    assert dir_diag(mm[4], object(), mm) is None


@FAST
@given(n=st.integers(2, 6), d=st.integers(2, 6), m=st.integers(2, 6),
       seed=st.integers(0, 2**31 - 1), factor=st.sampled_from([1.0, 1 + 1e-9]))
def test_right_gradients_are_never_diagnosed_directionally(n, d, m, seed, factor):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((n, d)), rng.standard_normal((d, m))
    dout = rng.standard_normal((n, m))
    dA, dB = factor * np.einsum("nm,dm->nd", dout, B), factor * np.dot(A.T, dout)
    fa, fb = _matmul_checks(A, B, dout, dA, dB, seed=seed % 1000)
    for what, g, check, other in (("dA", dA, fa, ("dB", dB, fb)), ("dB", dB, fb, ("dA", dA, fa))):
        msg = diagnose_directional(g, check, block="MatMul", what=what, inputs=(A, B),
                                   dout=dout, local=g, others=[other])
        assert msg is None, msg


def test_an_all_zero_gradient_is_named_as_such_not_upstream_ignored():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 4))
    expected = rng.standard_normal((3, 4))
    zeros = np.zeros((3, 4))
    msg = diagnose(zeros, expected, block="Sigmoid", what="dX", inputs=(X,),
                   dout=rng.standard_normal((3, 4)), local=np.zeros((3, 4)))
    assert msg is not None and msg.endswith(dg.tag("all_zeros")), msg
