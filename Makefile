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

.PHONY: setup demo demo-update test bench lint clean report-screenshot wheel docker-lint worker-image dataflow

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

# The demo corpus a day later (articles added, removed, superseded and changed in place; a
# newer inventory report), then `build --update` of the demo build from it. Run twice, the
# corpus stays the same and the update finds nothing to do.
demo-update: setup
	test -f $(DEMO_OUT)/manifest.json || $(MAKE) demo
	$(PY) -m pmc15m make-corpus --output $(DEMO_CORPUS) --seed 0 --state 2
	$(PY) -m pmc15m build --source $(DEMO_CORPUS) --update $(DEMO_OUT)

test: setup
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --durations=10

# The bench extra (pubmed_parser, the parse benchmark's anchor) is installed here only: CI and
# `make test` never need it. Its stamp is keyed to pyproject.toml like the setup stamp.
BENCH_STAMP := $(VENV)/.bench-installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[dev,bench]"
	rm -f $(VENV)/.bench-installed-*
	touch $@

bench: $(BENCH_STAMP)
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

# --- Beyond one machine (docs/runners.md). Nothing below is run by CI or `make test`. ---
# The wheel Dataflow workers and the worker image install (tests/pipelines/test_wheel.py proves it in a
# clean venv). build/ is removed first: setuptools would package stale files left in it.
wheel: setup
	rm -rf build dist
	$(PY) -m build --wheel --outdir dist .

docker-lint: setup
	$(VENV)/bin/hadolint docker/Dockerfile.worker

GCP_PROJECT ?= my-project
# us-east4 (Ashburn, N. Virginia) is the GCP region nearest the bucket's AWS us-east-1:
# the lowest latency to S3. The bucket is AWS Open Data: its egress is not billed to you.
GCP_REGION ?= us-east4
GCS_BUCKET ?= gs://$(GCP_PROJECT)-pmc15m
WORKER_IMAGE ?= $(GCP_REGION)-docker.pkg.dev/$(GCP_PROJECT)/pmc15m/pmc15m-worker:0.1.0
DATAFLOW_SOURCE ?= s3://pmc-oa-opendata
DATAFLOW_OUTPUT ?= $(GCS_BUCKET)/pmc15m-$(shell date -u +%Y%m%d)
# docs/scaling.md: why these (CPU-bound image work, memory per in-flight decode, S3 latency).
DATAFLOW_MACHINE ?= n2-standard-16
DATAFLOW_MAX_WORKERS ?= 50
DATAFLOW_THREADS ?= 2
DATAFLOW_BUILD_ARGS ?= --fetch_concurrency 16
DATAFLOW_COMMAND = $(PY) -m pmc15m build --source $(DATAFLOW_SOURCE) --output $(DATAFLOW_OUTPUT) \
	$(DATAFLOW_BUILD_ARGS) \
	--runner DataflowRunner --project $(GCP_PROJECT) --region $(GCP_REGION) \
	--temp_location $(GCS_BUCKET)/tmp --staging_location $(GCS_BUCKET)/staging \
	--sdk_container_image $(WORKER_IMAGE) --sdk_location container \
	--machine_type $(DATAFLOW_MACHINE) --max_num_workers $(DATAFLOW_MAX_WORKERS) \
	--autoscaling_algorithm THROUGHPUT_BASED --number_of_worker_harness_threads $(DATAFLOW_THREADS) \
	--experiments use_runner_v2 --job_name pmc15m-$(shell date -u +%Y%m%d-%H%M%S)

worker-image: wheel
	docker build -f docker/Dockerfile.worker -t $(WORKER_IMAGE) .
	docker push $(WORKER_IMAGE)

# Prints the Dataflow command (docs/runners.md explains every option); DATAFLOW_RUN=1 runs it,
# after `make worker-image` and with `pip install "apache-beam[gcp]==2.77.0" gcsfs`.
dataflow: setup
	@echo '$(DATAFLOW_COMMAND)'
	@if [ "$(DATAFLOW_RUN)" = 1 ]; then $(DATAFLOW_COMMAND); \
	else echo '(printed only: make dataflow DATAFLOW_RUN=1 GCP_PROJECT=... runs it)'; fi

clean:
	rm -rf $(DEMO_CORPUS) $(DEMO_OUT) bench-out .pytest_cache .ruff_cache $(SCREENSHOT)
