"""Backprop Lab's tool: release builds, the sandboxed grader and class reports."""

from pathlib import Path

# The project is used from its checkout (installed editable): sources live beside the package.
REPO_ROOT = Path(__file__).resolve().parents[2]
