# The README's two commands. Everything installs into .venv from pyproject.toml;
# the stamp file makes a second run reuse the environment and start in seconds.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test worker bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# `make run` is local development: debug on (unless DEBUG says otherwise).
# It leaves that choice in var/local.env, which the `chatserver` command reads
# too, so every command the README shows works beside it (chatserver/localenv.py).
LOCAL_ENV := $(or $(CHATSERVER_VAR_DIR),var)/local.env

$(LOCAL_ENV):
	mkdir -p $(dir $@)
	printf '# Written by make run: local development settings.\nDEBUG=true\n' > $@

run worker: export DEBUG ?= true
run worker: export PORT := $(PORT)
run: $(STAMP) $(LOCAL_ENV)
	$(BIN)/chatserver migrate --noinput
	$(BIN)/chatserver seed_demo
	$(BIN)/daphne -b 127.0.0.1 -p $(PORT) chatserver.asgi:application

worker: $(STAMP)
	$(BIN)/chatserver run_outbox

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

$(VENV)/.installed-bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $@

# The load harness and its figures (docs/performance.md); BENCH_ARGS=--quick
# for a small run. Needs PostgreSQL (DATABASE_URL), redis-server and npm.
bench: $(VENV)/.installed-bench
	bash bench/install-prism.sh
	bash bench/install-haproxy.sh
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
