"""The single-bug examples of hw2: each is the reference notebook with ONE definition changed.

Same format as examples/hw1/bugs.py; `bplab examples hw2` writes one notebook per entry.
"""

BUGS = {
    "bug_add_db_mean_not_sum": {
        "question": "Add",
        "define": "Add",
        "replace": ("dout.sum(axis=0)", "dout.mean(axis=0)"),
        "affects": ["two_layer_loss"],
        "why": "Add.backward averages dout over the rows for db instead of summing",
    },
    "bug_softmax_not_shifted": {
        "question": "softmax_cross_entropy",
        "define": "softmax_cross_entropy",
        "replace": (
            "shifted = logits - logits.max(axis=1, keepdims=True)",
            "shifted = logits",
        ),
        "affects": [],
        "why": "softmax_cross_entropy does not subtract the row maximum: overflow for large logits",
    },
    "bug_adam_no_bias_correction": {
        "question": "Adam",
        "define": "Adam",
        "replace": (
            "m_hat = self.m[key] / (1 - self.beta1**self.t)",
            "m_hat = self.m[key]",
        ),
        "affects": [],
        "why": "Adam forgets the bias correction of the first moment",
    },
    "bug_clip_grad_norm_in_place": {
        "question": "clip_grad_norm",
        "define": "clip_grad_norm",
        "replace": (
            "clipped = {key: g * scale for key, g in grads.items()}",
            "clipped = {key: np.multiply(g, scale, out=g) for key, g in grads.items()}",
        ),
        "affects": [],
        "why": "clip_grad_norm scales the caller's arrays in place",
    },
}
