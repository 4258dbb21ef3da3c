"""One graded record as Gradescope's ``results.json`` (the autograder specification's fields).

Top level: ``score`` (after the late policy), ``execution_time`` (seconds), ``output`` (a header
with the student, the submission time, lateness and the status), ``output_format`` and
``test_output_format`` (``text``: student text is never rendered as HTML or Markdown), ``tests``
and ``extra_data.bplab`` (status, cause, students, late outcome, diagnoses, isolation).

Each question gives up to two ``tests[]`` entries, like Otter: ``"<q>"`` with the public cases,
always ``visible``, and ``"<q> (hidden tests)"`` with the hidden cases, whose ``visibility`` the
build chose (default ``after_published``). The two scores add up to the question's score under
``bplab grade``. A grader fault is one visible "Autograder failure (score not final)" entry.
"""

from __future__ import annotations

from bplab import late
from bplab.packaging import FAULT_OUTPUT

OUTPUT_FORMAT = "text"
HIDDEN_SUFFIX = " (hidden tests)"
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")  # Gradescope's
HIDDEN_VISIBILITY = "after_published"  # Otter's default for hidden-case results
_SHOWN = {"after_due_date": "after the due date", "after_published": "once grades are published",
          "hidden": "never (your instructor sees them)"}


def _fmt(x: float) -> str:
    return f"{x:g}"


def fault_results(error: str, seconds: float, trace: str = "") -> dict:
    """The results.json of a grader fault: an autograder failure, never a plain zero.

    Students see ``FAULT_OUTPUT`` and the exception's type only: a traceback can quote the
    source of a hidden case, so it goes to ``extra_data`` and stderr (instructors only).
    """
    return {
        "score": 0.0,
        "execution_time": round(seconds, 3),
        "output": f"{FAULT_OUTPUT}\n\n({error})",
        "output_format": OUTPUT_FORMAT,
        "tests": [{
            "name": "Autograder failure (score not final)", "score": 0.0, "max_score": 0.0,
            "status": "failed", "output": FAULT_OUTPUT, "output_format": OUTPUT_FORMAT,
            "visibility": "visible", "extra_data": {},
        }],
        # "grader_bug" is bplab.grade.record's FaultCause for an exception in the grader's code
        "extra_data": {"bplab": {"status": "grader_error", "cause": "grader_bug",
                                 "reason": FAULT_OUTPUT, "traceback": trace}},
    }


def students(metadata: dict) -> list[dict]:
    """``[{name, email, id}]`` of the submitters (several for a group submission)."""
    users = metadata.get("users")
    found = []
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict):
            found.append({k: user.get(k) for k in ("name", "email", "id")})
    return found


def _case_lines(cases) -> list[str]:
    lines = []
    for c in cases:
        lines.append(f"PASS {c.name}" if c.passed else f"FAIL {c.name}\n{c.message}")
    return lines


def _question_tests(q, test_file, hidden_visibility: str) -> list[dict]:
    """The public entry and (when the question has hidden cases) the hidden entry of ``q``."""
    public_max = sum(float(tc.points) for tc in test_file.test_cases if not tc.hidden)
    hidden_max = float(test_file.possible) - public_max
    public = [c for c in q.cases if not c.hidden]
    hidden = [c for c in q.cases if c.hidden]
    public_score = min(sum(c.points for c in public if c.passed), q.score)
    hidden_score = max(0.0, q.score - public_score)
    extra = {"question": q.name, "status": q.status, "diagnoses": list(q.diagnoses)}
    head = [f"{q.name}: public tests {_fmt(public_score)} / {_fmt(public_max)} ({q.status})"]
    if q.note:
        head.append(q.note)
    entries = [{
        "name": q.name, "score": public_score, "max_score": public_max,
        "status": "passed" if public_score >= public_max else "failed",
        "output": "\n".join(head + _case_lines(public)), "output_format": OUTPUT_FORMAT,
        "visibility": "visible", "extra_data": dict(extra, part="public"),
    }]
    if hidden_max > 0 or hidden:
        lines = [f"{q.name}: hidden tests {_fmt(hidden_score)} / {_fmt(hidden_max)}"]
        entries.append({
            "name": q.name + HIDDEN_SUFFIX, "score": hidden_score, "max_score": hidden_max,
            "status": "passed" if hidden_score >= hidden_max else "failed",
            "output": "\n".join(lines + _case_lines(hidden)), "output_format": OUTPUT_FORMAT,
            "visibility": hidden_visibility, "extra_data": dict(extra, part="hidden"),
        })
    return entries


def gradescope_results(record, suite, config: dict, metadata: dict, seconds: float) -> dict:
    """``results.json`` for ``record`` graded with ``suite`` (``bplab.grade`` types).

    Args:
        config: the zip's ``bplab_gradescope.json`` (``hidden_visibility``, ``late_policy``).
        metadata: Gradescope's ``submission_metadata.json`` (``{}`` outside Gradescope).
        seconds: wall time of the whole run.
    """
    from bplab.grade.record import QuestionResult

    who = students(metadata)
    if record.status == "grader_error":
        data = fault_results(record.reason or "grader_error", seconds)
        data["extra_data"]["bplab"].update(
            cause=record.cause or "grader_bug", reason=record.reason,
            students=who, isolation=record.isolation)
        return data
    visibility = config.get("hidden_visibility", HIDDEN_VISIBILITY)
    by_name = {q.name: q for q in record.questions}
    tests = []
    for test_file in suite.files:
        q = by_name.get(test_file.name) or QuestionResult(
            test_file.name, 0.0, float(test_file.possible), "not_graded")
        tests += _question_tests(q, test_file, visibility)
    total = float(sum(suite.max_scores.values()))
    given = metadata.get("assignment")
    assignment: dict = given if isinstance(given, dict) else {}
    submitted = late.parse_time(metadata.get("created_at"))
    due = late.parse_time(assignment.get("due_date"))
    policy = late.LatePolicy.parse(config.get("late_policy", "none"))
    outcome = late.apply(policy, float(record.score), total, submitted, due)

    head = []
    if who:
        head.append("Submitted by: " + ", ".join(
            f"{u['name']} <{u['email']}> (id {u['id']})" for u in who))
    if submitted is not None:
        head.append(f"Submitted at: {submitted.isoformat()}")
    if outcome.note:
        head.append(outcome.note)
    head.append(f"Score: {_fmt(outcome.score)} / {_fmt(total)} (status: {record.status})")
    if record.reason:
        head.append(record.reason)
    head += record.cell_notes
    if visibility != "visible" and any(t["visibility"] != "visible" for t in tests):
        head.append(f"Hidden test results are shown to you {_SHOWN[visibility]}.")
    previous = metadata.get("previous_submissions")
    return {
        "score": outcome.score,
        "execution_time": round(seconds, 3),
        "output": "\n".join(head),
        "output_format": OUTPUT_FORMAT,
        "test_output_format": OUTPUT_FORMAT,
        "tests": tests,
        "extra_data": {"bplab": {
            "status": record.status,
            "cause": record.cause,
            "reason": record.reason,
            "isolation": record.isolation,
            "language": record.language,
            "diagnoses": {q.name: q.diagnoses for q in record.questions if q.diagnoses},
            "students": who,
            "submission_id": metadata.get("id"),
            "previous_submissions": len(previous) if isinstance(previous, list) else 0,
            "late": dict(outcome.as_dict(), due_date=assignment.get("due_date"),
                         submitted_at=metadata.get("created_at")),
        }},
    }

