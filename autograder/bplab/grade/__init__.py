"""``bplab grade``: the sandboxed grader (see docs/grading.md)."""
