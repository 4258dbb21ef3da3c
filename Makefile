# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs what the project needs when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The runtime (what `make demo` needs) and the test extra (pytest, ruff, torch as an oracle)
# are installed separately: the demo never pulls the test extra.
RUNTIME := $(VENV)/.runtime-installed
TESTDEPS := $(VENV)/.test-installed
REQUIREMENTS := $(wildcard autograder/requirements/*.txt)

.PHONY: demo test test-interpreters lint sandbox-tools clean

$(RUNTIME): pyproject.toml $(REQUIREMENTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $(RUNTIME)

$(TESTDEPS): $(RUNTIME)
	$(PY) -m pip install -q -e '.[test]'
	touch $(TESTDEPS)

# bubblewrap gives the grader its namespaces; without it the grader degrades and says so.
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
	      || echo "note: could not install bubblewrap; grading runs with reduced isolation"; \
	  else echo "note: bwrap not found; grading runs with reduced isolation"; fi; }

test: $(TESTDEPS) sandbox-tools
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

# The zips graded on every pyenv interpreter (3.10 to 3.13): slow (a venv per interpreter,
# cached in .venv/zip-venvs/), so make test runs 3.10 only.
test-interpreters: $(TESTDEPS) sandbox-tools
	$(PY) -m pytest -q -m interpreters tests/test_interpreters.py

lint: $(TESTDEPS)
	$(VENV)/bin/ruff check .

demo: $(RUNTIME) sandbox-tools
	$(PY) -m bplab.demo

clean:
	rm -rf dist demo-out
