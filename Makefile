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

.PHONY: demo test test-fast typecheck test-interpreters lint sandbox-tools clean

$(RUNTIME): pyproject.toml $(REQUIREMENTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $(RUNTIME)

$(TESTDEPS): $(RUNTIME)
	$(PY) -m pip install -q -e '.[test]'
	touch $(TESTDEPS)

# bubblewrap gives the grader its namespaces and libseccomp (loaded through ctypes) its seccomp
# filter; without them the grader degrades and says so.
SANDBOX_PACKAGES := bubblewrap libseccomp2
sandbox-tools:
	@{ command -v bwrap >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2'; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SANDBOX_PACKAGES)) >/dev/null 2>&1 \
	      || echo "note: could not install $(SANDBOX_PACKAGES); grading runs with reduced isolation"; \
	  else echo "note: bwrap or libseccomp not found; grading runs with reduced isolation"; fi; }

# mypy runs beside pytest (pytest keeps about one core busy); both must pass.
test: $(TESTDEPS) sandbox-tools
	$(VENV)/bin/ruff check .
	@$(VENV)/bin/mypy > $(VENV)/mypy.log 2>&1 & typing=$$!; \
	  $(PY) -m pytest -q; tests=$$?; \
	  wait $$typing; typed=$$?; echo "mypy:"; cat $(VENV)/mypy.log; \
	  [ $$tests -eq 0 ] && [ $$typed -eq 0 ]

# The inner loop: lint and every test not marked slow (no otter runs, no sandbox batteries).
test-fast: $(TESTDEPS)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -m "not slow"

# mypy at default strictness; what it checks is configured in pyproject.toml ([tool.mypy]).
typecheck: $(TESTDEPS)
	$(VENV)/bin/mypy

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

# Headless Chromium and its WebDriver: the report's browser tests run in them (never skipped).
.PHONY: browser-tools
test: browser-tools
browser-tools:
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver) >/dev/null 2>&1 \
	      || echo "note: could not install chromium; the report's browser tests will fail"; \
	  else echo "note: chromium/chromedriver not found; the report's browser tests will fail"; fi; }

# Issue 14's figures (printed, never asserted): paired bplab/otter rounds, then peak memory
# from 100 to 2,000 submissions. Tens of minutes of both cores: not part of make test.
.PHONY: bench
bench: $(RUNTIME) sandbox-tools
	$(PY) benchmarks/bench_grade.py -a hw1 -a hw2 --copies 100 --rounds 3 -j 2
	$(PY) benchmarks/bench_grade_memory.py --sizes 100,500,1000,2000 --notebook blank -j 2
