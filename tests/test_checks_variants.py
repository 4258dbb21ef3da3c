"""Correct hw1 solutions written many ways, mixed in one notebook, still get full marks: a later
cell uses the earlier ones (linreg chains the blocks), whichever variant each one is.

Each variant alone is graded by tests/test_bug_bank.py; the variants are the bank's correct
hw1 entries (examples/hw1/variants.py)."""

from __future__ import annotations

import pytest
from bplab.variants import Variant, variants
from checks_env import failures, make_env, run_question
from hypothesis import given, settings
from hypothesis import strategies as st

# A bare-array backward is fine for grading the block, but the reference linreg unpacks
# (dX,) = Square.backward(...), as a student's own chain would have to match their block.
UNMIXABLE = {"hw1/Square/SquareBare", "hw1/Square/bare array for one input"}


def _by_definition() -> dict[str, list[Variant]]:
    table: dict[str, list[Variant]] = {}
    for v in variants("hw1", correct=True):
        if v.id not in UNMIXABLE:
            table.setdefault(v.define, []).append(v)
    return table


MIXABLE = _by_definition()


def test_the_mix_draws_from_many_definitions():
    assert len(MIXABLE) >= 10 and sum(map(len, MIXABLE.values())) >= 15
    assert UNMIXABLE <= {v.id for v in variants("hw1", correct=True)}


@pytest.mark.hw1
@settings(max_examples=8)  # the shared profile (conftest.py); each example grades 5 questions
@given(st.data())
def test_any_mix_of_correct_hw1_variants_gets_full_points(data):
    chosen = [data.draw(st.sampled_from([None, *options]), label=define)
              for define, options in MIXABLE.items()]
    env = make_env("hw1", sources=[v.source for v in chosen if v is not None])
    for question in ("MatMul", "Sum", "linreg_loss_and_grad", "fit_linreg", "chain_rule"):
        result = run_question("hw1", question, env)
        assert failures(result) == [], question
