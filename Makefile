# cookiecutter-django-temporal: the template's own commands. `make help` lists them.

VENV := .venv
BIN := $(VENV)/bin
# A Python >= 3.12: the first on PATH, else the newest that pyenv installed,
# else one uv knows (python3 is often older); `make test PYTHON=/path/to/python`
# chooses. tests/test_makefiles.py checks each case.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 python \
		$$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/*/bin/python3 2>/dev/null | sort -rV) \
		$$(uv python find '>=3.12' 2>/dev/null); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
# Where `make bake` writes the project. ARGS: extra arguments of `make bake`
# (cookiecutter's, e.g. ARGS="--no-input use_docker=false"), of `make bench`
# (scripts/bench's, e.g. ARGS="--venv PATH --large 0") and of `make
# compose-smoke` (answers and --keep, e.g. ARGS="database=postgresql").
OUTPUT ?= baked
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install bake test lint lock docs screenshots bench compose-smoke

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv with the template's tooling

# pip installs only uv (the test group's requirement of it, read from
# pyproject.toml), and uv installs the group, several times faster than pip.
UV_REQUIREMENT = $(BIN)/python -c 'import re, tomllib; group = tomllib.load(open("pyproject.toml", "rb"))["dependency-groups"]["test"]; print(next(r for r in group if isinstance(r, str) and re.fullmatch(r"uv\s*([<>=!~].*)?", r)))'
# uv reads none of pip's settings: pip's index (PIP_INDEX_URL or pip.conf's
# index-url) and CA bundle (cert) are passed on, unless uv's own are set. pip's
# extra-index-url is not: uv would take a package from the first index that
# has it, where pip takes the best version from all of them.
PIP_SETTING = $(BIN)/python -m pip config list 2>/dev/null | $(BIN)/python -c 'import ast, sys; s = dict(line.rstrip().split("=", 1) for line in sys.stdin if "=" in line); print(next((ast.literal_eval(s[k]) for k in (":env:.$(1)", "install.$(1)", "global.$(1)") if k in s), ""))'

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.12 not found (on PATH, under pyenv or uv); install it or pass PYTHON=/path/to/python3.12" >&2; exit 1; }
	@echo "Using $(PYTHON) ($$("$(PYTHON)" --version))"
	"$(PYTHON)" -m venv $(VENV)
	@uv="$$($(UV_REQUIREMENT))" && echo "$(BIN)/python -m pip install --quiet '$$uv'" && \
	$(BIN)/python -m pip install --quiet "$$uv"
	@index="$${UV_INDEX_URL:-$${UV_DEFAULT_INDEX:-$$($(call PIP_SETTING,index-url))}}"; \
	cert="$${SSL_CERT_FILE:-$$($(call PIP_SETTING,cert))}"; \
	echo "$${cert:+SSL_CERT_FILE=$$cert }$(BIN)/uv pip install --quiet --python $(BIN)/python$${index:+ --index-url ...} --group test"; \
	env $${cert:+SSL_CERT_FILE="$$cert"} $(BIN)/uv pip install --quiet \
		--python $(BIN)/python $${index:+--index-url "$$index"} --group test
	@touch $@

bake: install ## Generate a project into ./baked (asks the questions)
	$(BIN)/cookiecutter . --output-dir $(OUTPUT) $(ARGS)

test: install ## Run the full test suite (bakes, lints and runs every generated suite)
	$(BIN)/pytest -n auto

lock: install ## Lock the generated projects' dependencies again (their uv.lock template; network)
	$(BIN)/python -m scripts.lock

docs: install ## Build the docs site into docs/_build/html (warnings are errors)
	@command -v dot >/dev/null || { echo "error: Graphviz's dot not found (the diagrams need it): apt-get install graphviz" >&2; exit 1; }
	$(BIN)/sphinx-build -W --keep-going -n -q -b html docs docs/_build/html
	@echo "Open docs/_build/html/index.html"

screenshots: install ## Take the docs' screenshots again (a baked project in headless Chromium)
	$(BIN)/python -m scripts.screenshots --output docs/_static/screenshots

bench: install ## Bake a project and time its batches and starts, in one table
	$(BIN)/python -m scripts.bench $(ARGS)

compose-smoke: install ## Run a baked project's Compose stack on Docker, with stand-in images
	$(BIN)/python -m scripts.compose_smoke $(ARGS)

# The template's own code (the project template is linted after baking).
LINTED := hooks tests scripts docs/conf.py docs/_ext local_extensions.py package/hatch_build.py

lint: install ## Check the template's own Python code
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
