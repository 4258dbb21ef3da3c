"""The single-bug examples of hw1: each is the reference notebook with ONE definition changed.

`bplab examples hw1` writes one notebook per entry (plus full.ipynb and blank.ipynb). A bug is a
textual replacement inside the reference of one definition, so it follows the reference when the
reference changes (and the generator fails loudly when `old` no longer occurs exactly once).

    example name: {
        "question": the question that must lose points,
        "define":   the definition whose cell is changed,
        "replace":  (old, new) text in that definition's reference,
        "affects":  other questions whose code calls the buggy definition and lose points too,
        "why":      what the bug is, in words,
    }
"""

BUGS = {
    "bug_matmul_db_transposed": {
        "question": "MatMul",
        "define": "MatMul",
        "replace": ("dB = A.T @ dout", "dB = dout.T @ A"),
        "affects": ["linreg_loss_and_grad", "fit_linreg"],
        "why": "MatMul.backward returns dB transposed: shape (M, D) instead of (D, M)",
    },
    "bug_sigmoid_backward_sign": {
        "question": "Sigmoid",
        "define": "Sigmoid",
        "replace": ("return (dout * s * (1 - s),)", "return (-dout * s * (1 - s),)"),
        "affects": [],
        "why": "Sigmoid.backward has the wrong sign",
    },
    "bug_sum_backward_ignores_dout": {
        "question": "Sum",
        "define": "Sum",
        "replace": ("return (np.full(shape, float(dout)),)", "return (np.ones(shape),)"),
        # linreg starts the backward pass with dout = 1, so it cannot see this bug.
        "affects": [],
        "why": "Sum.backward returns ones instead of dout everywhere",
    },
    "bug_relu_grad_at_zero": {
        "question": "ReLU",
        "define": "ReLU",
        "replace": ("return np.maximum(X, 0), X > 0", "return np.maximum(X, 0), X >= 0"),
        "affects": [],
        "why": "ReLU.backward lets the gradient through at X == 0 (relu'(0) must be 0)",
    },
    "bug_fan_out_path_overwritten": {
        "question": "fan_out",
        "define": "fan_out_grad",
        "replace": ("dx = dx_direct + dx_through_q", "dx = dx_through_q"),
        "affects": [],
        "why": "fan_out_grad assigns dx twice instead of adding the two paths' gradients",
    },
    "bug_dcube_missing_inner_derivative": {
        "question": "chain_rule",
        "define": "dcube",
        "replace": ("return 6 * x * (x**2 + 1) ** 2", "return 3 * (x**2 + 1) ** 2"),
        "affects": [],
        "why": "dcube forgets the inner derivative 2x of the chain rule",
    },
    "bug_relu_backward_masks_cached_x": {
        # A real student ReLU: the cache is X itself, and backward turns it into a 0/1 mask in
        # place, overwriting the caller's X (the contract: nothing modifies its inputs).
        "question": "ReLU",
        "define": "ReLU",
        "replace": (
            "return np.maximum(X, 0), X > 0\n\n    @staticmethod\n    def backward(dout, cache):\n"
            "        mask = cache\n        return (dout * mask,)",
            "return np.maximum(X, 0), X\n\n    @staticmethod\n    def backward(dout, cache):\n"
            "        X = cache\n        X[X <= 0] = 0\n        X[X > 0] = 1\n"
            "        return (dout * X,)",
        ),
        "affects": [],
        "why": "ReLU.backward turns the X kept in its cache into a 0/1 mask, in place",
    },
}
