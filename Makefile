# pmc15m developer commands. Every target sets itself up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
DEMO_CORPUS ?= demo-corpus
DEMO_OUT ?= demo-out
PYTEST_WORKERS ?= 2
CHROMIUM ?= /usr/bin/chromium
SCREENSHOT ?= report-screenshot.png

.PHONY: setup demo test bench lint clean report-screenshot

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

demo: setup
	rm -rf $(DEMO_CORPUS)
	$(PY) -m pmc15m make-corpus --output $(DEMO_CORPUS) --seed 0
	$(PY) -m pmc15m build --source $(DEMO_CORPUS) --output $(DEMO_OUT) --overwrite

test: setup
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --durations=10

bench: setup
	$(PY) -m benchmarks.run

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Renders the demo build's report.html in headless Chromium (installed with apt-get if missing;
# not part of CI) so a person can look at it: $(SCREENSHOT).
report-screenshot: setup
	test -f $(DEMO_OUT)/manifest.json || $(MAKE) demo
	$(PY) -m pmc15m report $(DEMO_OUT)
	test -x $(CHROMIUM) || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)
	$(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --hide-scrollbars \
		--window-size=1200,5600 --screenshot=$(abspath $(SCREENSHOT)) \
		file://$(abspath $(DEMO_OUT))/report/report.html
	@echo "screenshot: $(SCREENSHOT)"

clean:
	rm -rf $(DEMO_CORPUS) $(DEMO_OUT) bench-out .pytest_cache .ruff_cache $(SCREENSHOT)
