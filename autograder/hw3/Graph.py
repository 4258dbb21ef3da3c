"""Graph: the autograd engine, driven with traced blocks (bplab_checks.graph)."""

from bplab_checks.graph import (
    check_graph,
    check_graph_linreg,
    check_graph_public,
    diamond_spec,
    reference_specs,
    triple_use_spec,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "Graph"
points = 8


@test_case(name="Graph: chain, diamond and triple use match central differences", hidden=False)
def chain_diamond_and_triple_use(Graph):
    check_graph_public(Graph)


@test_case(name="Graph: hw1's linear regression and a Tanh/Sigmoid diamond", hidden=True)
def linear_regression_and_reference_blocks(Graph):
    from solutions.hw1 import MatMul, Multiply, Sigmoid, Square, Subtract, Sum, linreg_loss_and_grad
    from solutions.hw2 import Tanh

    specs = reference_specs(MatMul, Subtract, Square, Sum, Tanh, Sigmoid, Multiply)
    check_graph_linreg(Graph, specs[0], linreg_loss_and_grad)
    check_graph(Graph, specs, seeds=(21, 22))


@test_case(name="Graph: repeated forward and backward on unseen values", hidden=True)
def repeated_forward_and_backward(Graph):
    check_graph(Graph, [diamond_spec(), triple_use_spec()], seeds=(31, 32, 33))
