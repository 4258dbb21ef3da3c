"""Gradescope's results.json specification (the autograder docs' "Output format"), as a check.

Top level: ``score`` (number; optional only when every test has one), ``execution_time``
(seconds), ``output``, ``output_format`` / ``test_output_format`` / ``test_name_format`` (text,
html, simple_format, md, ansi), ``visibility`` / ``stdout_visibility``, ``extra_data`` (object),
``tests`` (list), ``leaderboard``. Each test: ``score``, ``max_score`` (numbers), ``status``
(passed, failed), ``name``, ``name_format``, ``number``, ``output``, ``output_format``, ``tags``,
``visibility`` (hidden, after_due_date, after_published, visible), ``extra_data``.

``spec_errors`` lists what violates it (empty when valid). Our results must carry every field
the issue names, so those are required here even where Gradescope has them optional.
"""

from __future__ import annotations

from typing import TypeGuard

FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
STATUSES = {"passed", "failed"}
TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format",
            "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
            "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output",
             "output_format", "tags", "visibility", "extra_data"}
NUMBER = "number"
REQUIRED_TOP = {"score": NUMBER, "execution_time": NUMBER, "output": str, "output_format": str,
                "tests": list, "extra_data": dict}
REQUIRED_TEST = {"name": str, "score": NUMBER, "max_score": NUMBER, "status": str,
                 "output": str, "visibility": str, "extra_data": dict}


def _number(value: object) -> TypeGuard[int | float]:
    """A JSON number: not a bool, not NaN."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _typed(value, kind) -> bool:
    return _number(value) if kind == NUMBER else isinstance(value, kind)


def spec_errors(data) -> list[str]:
    """Every way ``data`` departs from the specification (plus our required fields)."""
    if not isinstance(data, dict):
        return [f"results is a {type(data).__name__}, not an object"]
    errors = [f"unknown top-level key {k!r}" for k in sorted(set(data) - TOP_KEYS)]
    for key, kind in REQUIRED_TOP.items():
        if key not in data:
            errors.append(f"missing {key}")
        elif not _typed(data[key], kind):
            errors.append(f"{key} has type {type(data[key]).__name__}")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in data and data[key] not in FORMATS:
            errors.append(f"{key} {data[key]!r} is not one of {sorted(FORMATS)}")
    for key in ("visibility", "stdout_visibility"):
        if key in data and data[key] not in VISIBILITIES:
            errors.append(f"{key} {data[key]!r} is not a visibility")
    if _number(data.get("execution_time")) and data["execution_time"] < 0:
        errors.append("execution_time is negative")
    for i, test in enumerate(data.get("tests") or []):
        where = f"tests[{i}]"
        if not isinstance(test, dict):
            errors.append(f"{where} is not an object")
            continue
        errors += [f"{where}: unknown key {k!r}" for k in sorted(set(test) - TEST_KEYS)]
        for key, kind in REQUIRED_TEST.items():
            if key not in test:
                errors.append(f"{where}: missing {key}")
            elif not _typed(test[key], kind):
                errors.append(f"{where}: {key} has type {type(test[key]).__name__}")
        if test.get("status") not in STATUSES:
            errors.append(f"{where}: status {test.get('status')!r}")
        if test.get("visibility") not in VISIBILITIES:
            errors.append(f"{where}: visibility {test.get('visibility')!r}")
        if "output_format" in test and test["output_format"] not in FORMATS:
            errors.append(f"{where}: output_format {test['output_format']!r}")
        score, top = test.get("score"), test.get("max_score")
        if _number(score) and _number(top) and not 0 <= score <= top + 1e-9:
            errors.append(f"{where}: score {score} outside 0..{top}")
    return errors
