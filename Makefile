# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs what the project needs when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint sandbox-tools clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# bubblewrap gives the grader its namespaces and libseccomp (loaded through ctypes) its seccomp
# filter; without them the grader degrades and says so.
SANDBOX_PACKAGES := bubblewrap libseccomp2
sandbox-tools:
	@{ command -v bwrap >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2'; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SANDBOX_PACKAGES)) >/dev/null 2>&1 \
	      || echo "note: could not install $(SANDBOX_PACKAGES); grading runs with reduced isolation"; \
	  else echo "note: bwrap or libseccomp not found; grading runs with reduced isolation"; fi; }

test: $(STAMP) sandbox-tools
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

demo: $(STAMP) sandbox-tools
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
