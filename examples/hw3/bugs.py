"""The single-bug examples of hw3: each is the reference notebook with ONE definition changed.

Same format as examples/hw1/bugs.py; `bplab examples hw3` writes one notebook per entry. No hw3
question calls another graded definition, so every bug loses points on its own question only.
"""

BUGS = {
    "bug_graph_fanout_overwritten": {
        "question": "Graph",
        "define": "Graph",
        "replace": ("grads[parent] = grads[parent] + g if parent in grads else g",
                    "grads[parent] = g"),
        "affects": [],
        "why": "Graph.backward overwrites a node's gradient at fan-out: the last path wins",
    },
    "bug_mlp_db_mean_not_sum": {
        "question": "mlp_loss",
        "define": "mlp_loss",
        "replace": ('dh, grads[f"b{l}"] = Add.backward(dz, c_add)',
                    'dh, _ = Add.backward(dz, c_add)\n        grads[f"b{l}"] = dz.mean(axis=0)'),
        "affects": [],
        "why": "mlp_loss averages dz over the batch for every db instead of summing",
    },
    "bug_norms_loss_summed": {
        "question": "gradient_norms",
        "define": "gradient_norms",
        "replace": ("da = np.ones_like(a) / N", "da = np.ones_like(a)"),
        "affects": [],
        "why": "gradient_norms sums the loss over the batch instead of averaging it",
    },
    "bug_lr_range_first_loss": {
        "question": "lr_range_test",
        "define": "lr_range_test",
        "replace": ("or loss > diverge * best:", "or loss > diverge * losses[0]:"),
        "affects": [],
        "why": "lr_range_test stops against the first loss instead of the best one",
    },
}
