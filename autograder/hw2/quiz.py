"""quiz: hw2's concept questions, one hidden case (1 point) per item of ``quiz_answers``."""

from bplab_checks.quiz import check_quiz_form, check_quiz_item, choice, items_by_id, number
from otter.test_files import test_case

OK_FORMAT = False
name = "quiz"
points = 9

# The items' ids, kinds and the sections that teach them (the questions are in the notebook).
ITEMS = items_by_id([
    number("q1", "Part 1 — More blocks: vanishing and exploding gradients"),
    choice("q2", "Part 3 — A two-layer network: gradient checking"),
    number("q3", "Part 2 — Losses and their gradients: mean squared error"),
    number("q4", "Part 4 — Optimizers: Adam"),
    number("q5", "Part 2 — Losses and their gradients: softmax and categorical cross-entropy"),
    choice("q6", "Part 1 — More blocks: vanishing and exploding gradients"),
    number("q7", "Part 6 — Gradient clipping by global norm"),
    number("q8", "Part 7 — Training on real data: the mini-batch training loop"),
    choice("q9", "Part 1 — More blocks: vanishing and exploding gradients"),
])


@test_case(name="quiz: every item is answered in the right form", hidden=False, points=0)
def every_item_is_answered_in_the_right_form(quiz_answers):
    check_quiz_form(quiz_answers, ITEMS.values())


@test_case(name="quiz: q1", hidden=True)
def item_q1_is_right(quiz_answers):
    from solutions.hw2 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q1"], key["q1"])


@test_case(name="quiz: q2", hidden=True)
def item_q2_is_right(quiz_answers):
    from solutions.hw2 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q2"], key["q2"])


@test_case(name="quiz: q3", hidden=True)
def item_q3_is_right(quiz_answers):
    from solutions.hw2 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q3"], key["q3"])


@test_case(name="quiz: q4", hidden=True)
def item_q4_is_right(quiz_answers):
    from solutions.hw2 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q4"], key["q4"])


@test_case(name="quiz: q5", hidden=True)
def item_q5_is_right(quiz_answers):
    from solutions.hw2 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q5"], key["q5"])


@test_case(name="quiz: q6", hidden=True)
def item_q6_is_right(quiz_answers):
    from solutions.hw2 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q6"], key["q6"])


@test_case(name="quiz: q7", hidden=True)
def item_q7_is_right(quiz_answers):
    from solutions.hw2 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q7"], key["q7"])


@test_case(name="quiz: q8", hidden=True)
def item_q8_is_right(quiz_answers):
    from solutions.hw2 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q8"], key["q8"])


@test_case(name="quiz: q9", hidden=True)
def item_q9_is_right(quiz_answers):
    from solutions.hw2 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q9"], key["q9"])
