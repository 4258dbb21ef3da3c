"""Trusted gradient checks and comparisons used by the test files (numpy only; shipped to students)."""
