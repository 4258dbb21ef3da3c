"""The suite's own set-up (tests/conftest.py): the hypothesis profile every @given test runs
under."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def test_the_shared_hypothesis_profile_is_loaded():
    current = settings()
    assert current.derandomize and current.deadline is None and current.database is None
    assert HealthCheck.too_slow in current.suppress_health_check


def test_a_local_example_count_keeps_the_rest_of_the_profile():
    # What tests do (oracle_helpers.FAST, test_diagnose.FAST): only the count changes.
    local = settings(max_examples=5)
    assert local.max_examples == 5 and local.derandomize and local.deadline is None

