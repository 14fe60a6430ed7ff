# Two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv with the pinned stack on first use and reuse it after.

PYTHON ?= $(shell command -v python3.11 || command -v python3.10 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements*.txt constraints.txt setup.py | sha1sum | cut -c1-12)
REQUIREMENTS := requirements.txt requirements-train.txt requirements-eval.txt requirements-dev.txt

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): $(REQUIREMENTS) requirements-nodeps.txt constraints.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(addprefix -r ,$(REQUIREMENTS)) -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-* && touch $@

demo: install
	$(PY) -m tfgc demo --out demo-output

test: install
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=10 tests

bench: install
	$(PY) benchmarks/bench.py --out benchmarks/results/bench.json

clean:
	rm -rf $(VENV) demo-output build *.egg-info
