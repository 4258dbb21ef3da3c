"""quiz: hw3's concept questions, one hidden case (1 point) per item of ``quiz_answers``."""

from bplab_checks.quiz import check_quiz_form, check_quiz_item, choice, items_by_id, number
from otter.test_files import test_case

OK_FORMAT = False
name = "quiz"
points = 9

# The items' ids, kinds and the sections that teach them (the questions are in the notebook).
ITEMS = items_by_id([
    number("q1", "Part 1 — `Graph`: an autograd engine: why gradients accumulate"),
    number("q2", "Part 1 — `Graph`: an autograd engine: why gradients accumulate"),
    choice("q3",
           "Part 1 — `Graph`: an autograd engine: why backward goes in reverse topological order"),
    number("q4", "Part 2 — A network of any depth: `mlp_init` and `mlp_loss`"),
    number("q5", "Part 2 — A network of any depth: lecture 5's 2-2-1 example, by the numbers"),
    choice("q6", "Part 3 — Vanishing and exploding gradients, measured"),
    number("q7", "Part 4 — The learning-rate range test"),
    choice("q8", "Part 4 — The learning-rate range test"),
    choice("q9", "Part 5 — The same network in PyTorch (not graded)"),
])


@test_case(name="quiz: every item is answered in the right form", hidden=False, points=0)
def every_item_is_answered_in_the_right_form(quiz_answers):
    check_quiz_form(quiz_answers, ITEMS.values())


@test_case(name="quiz: q1", hidden=True)
def item_q1_is_right(quiz_answers):
    from solutions.hw3 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q1"], key["q1"])


@test_case(name="quiz: q2", hidden=True)
def item_q2_is_right(quiz_answers):
    from solutions.hw3 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q2"], key["q2"])


@test_case(name="quiz: q3", hidden=True)
def item_q3_is_right(quiz_answers):
    from solutions.hw3 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q3"], key["q3"])


@test_case(name="quiz: q4", hidden=True)
def item_q4_is_right(quiz_answers):
    from solutions.hw3 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q4"], key["q4"])


@test_case(name="quiz: q5", hidden=True)
def item_q5_is_right(quiz_answers):
    from solutions.hw3 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q5"], key["q5"])


@test_case(name="quiz: q6", hidden=True)
def item_q6_is_right(quiz_answers):
    from solutions.hw3 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q6"], key["q6"])


@test_case(name="quiz: q7", hidden=True)
def item_q7_is_right(quiz_answers):
    from solutions.hw3 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q7"], key["q7"])


@test_case(name="quiz: q8", hidden=True)
def item_q8_is_right(quiz_answers):
    from solutions.hw3 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q8"], key["q8"])


@test_case(name="quiz: q9", hidden=True)
def item_q9_is_right(quiz_answers):
    from solutions.hw3 import quiz_answers as key

    check_quiz_item(quiz_answers, ITEMS["q9"], key["q9"])
