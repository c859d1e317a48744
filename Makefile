# Two commands on a fresh machine: `make run` (set up, serve the app) and `make test` (set up, run every test).
# Everything else: make setup | train | export | gallery | body-parts | bench | students | routes | constraints | clean.

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
QUANTIZE ?= uint8
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBIAN_PACKAGES := chromium libcairo2 nginx

.PHONY: setup run test lint test-python test-js train export gallery body-parts bench routes students constraints clean system-packages

setup: $(VENV)/.installed node_modules/.installed system-packages

# Re-installs only when the pins change. constraints.txt pins every transitive package.
$(VENV)/.installed: requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests (never a browser downloaded by Playwright), cairo for the
# test-only reference renderer, and nginx for deploy/nginx.conf's test (tests/test_nginx.py).
system-packages:
	@missing=""; for package in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

run: setup
	$(PY) serve.py --host $(HOST) --port $(PORT)

# Lint and both suites run whatever the one before says; the target fails at the end if any failed.
test: setup
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	$(MAKE) --no-print-directory test-python || status=1; \
	$(MAKE) --no-print-directory test-js || status=1; \
	if [ $$status -ne 0 ]; then echo "make test: a suite failed (see above)"; fi; \
	exit $$status

# ruff.toml and eslint.config.js say what each checks.
lint:
	$(PY) -m ruff check .
	node_modules/.bin/eslint .

test-python:
	$(PY) -m pytest tests/ -p no:cacheprovider --durations=25

test-js:
	node --test tests/js/*.test.js

# Trains the shipped model and the original architecture on the shared data (about 40 minutes on 2 cores),
# then exports the shipped one and rebuilds the page's gallery for its classes. The shipped model is a student:
# the shipped architecture trained on the guesses of two teachers, our own network of the same size
# (runs/teacher) and ml5's DoodleNet (MIT; read from ../shared at training time, credited in config.json and
# metadata.json, never shipped), each averaged with the drawing's mirror image, so that one pass of the student
# does what two of its teacher did (docs/experiments.md). Adding a class: its bitmaps (and stroke drawings, for
# the gallery and real-stroke accuracy) in the data folder, then `make train`.
DOODLENET ?= ../shared/anchors/doodlenet
STUDENT := --teacher runs/teacher $(DOODLENET) --teacher-weight 0.7 --mirror-inputs on
train: setup
	$(PY) -m training.train --model sketchnet --seed 1337 --out runs/teacher --overwrite
	$(PY) -m training.train --model original --out runs/original --overwrite
	$(PY) -m training.train --model sketchnet --seed 1337 $(STUDENT) --out runs/sketchnet --overwrite
	$(MAKE) export gallery

export: setup
	$(PY) export.py runs/sketchnet --out web/model --quantize $(QUANTIZE) --overwrite

gallery: setup
	$(PY) -m training.gallery

# The original tutorial's nine body parts from the few stroke drawings at hand, on the shipped network's
# features (2 to 5 minutes on 2 cores), exported beside the shipped model.
# DoodleNet is its teacher too. bench.body_parts measures this recipe against the others, three seeds each.
body-parts: setup
	$(PY) -m training.fewshot --preset body-parts --teacher $(DOODLENET) --out runs/body-parts --overwrite
	$(PY) export.py runs/body-parts --out web/model-body-parts --quantize $(QUANTIZE) --overwrite
	$(MAKE) gallery  # the gallery shows, for each model, the drawings it recognizes best

bench: setup
	$(PY) -m bench.run_all

# Issue 20's students at the two other seeds (seed 1337's is runs/sketchnet, from `make train`), then
# bench.teachers measures all three against DoodleNet and the network they replaced (docs/experiments.md).
STUDENT_SEEDS := 1338 1339
students: setup
	for seed in $(STUDENT_SEEDS); do \
	  $(PY) -m training.train --model sketchnet --seed $$seed $(STUDENT) --out runs/students/student-$$seed \
	    --overwrite || exit 1; \
	done
	$(PY) -m bench.teachers

# Issue 16's routes toward DoodleNet, three seeds each (five trainings like `make train`'s): the shipped recipe at seeds
# 1338 and 1339 beside runs/teacher (seed 1337), on the same split; a student distilled from each seed's run;
# then bench.routes measures every route on them (docs/experiments.md).
ROUTE_SEEDS := 1338 1339
routes: setup
	for seed in $(ROUTE_SEEDS); do \
	  $(PY) -m training.train --model sketchnet --seed $$seed --out runs/routes/baseline-$$seed --overwrite || exit 1; \
	done
	$(PY) -m training.train --model sketchnet --seed 1337 --teacher runs/teacher --out runs/routes/distilled-1337 --overwrite
	for seed in $(ROUTE_SEEDS); do \
	  $(PY) -m training.train --model sketchnet --seed $$seed --teacher runs/routes/baseline-$$seed \
	    --out runs/routes/distilled-$$seed --overwrite || exit 1; \
	done
	$(PY) -m bench.routes

constraints:
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf tests/artifacts .pytest_cache
