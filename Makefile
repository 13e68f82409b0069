# photo_ai: the two commands a user needs are `make demo` and `make test`.
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
VENV := .venv
PY := $(VENV)/bin/python
export PHOTO_AI_PGPORT ?= 55432

.PHONY: setup build install db-start db-stop db-status test lint pytest clean \
	demo sidecar-start sidecar-stop sidecar-status serve serve-start serve-stop serve-status \
	worker-start worker-stop

setup:
	@scripts/setup.sh

build:
	@python3 scripts/build_extension.py --pg-config $(PG_CONFIG)

install: build
	@$(MAKE) -s -C extensions/photo_ai PG_CONFIG=$(PG_CONFIG) install

db-start:
	@scripts/db.sh start

db-stop:
	@scripts/db.sh stop

db-status:
	@scripts/db.sh status

# The main job: set-up, the cluster, the extension, the sidecar (in the background), the
# photos imported and analysed, a few searches. PHOTOS=/some/folder imports your own folder;
# DEMO_ARGS passes more options (python -m photo_ai_cli demo --help).
demo: setup db-start install
	@$(PY) -m photo_ai_cli demo $(if $(PHOTOS),--photos "$(PHOTOS)") $(DEMO_ARGS)

sidecar-start:
	@$(PY) -m photo_ai_cli sidecar start $(if $(PHOTOS),--photos "$(PHOTOS)")

sidecar-stop:
	@$(PY) -m photo_ai_cli sidecar stop

sidecar-status:
	@$(PY) -m photo_ai_cli sidecar status

# The search page (photo-ai serve): `serve` in this terminal, the others in the background
# as `make demo` leaves it. PHOTO_AI_WEB_PORT / PHOTO_AI_WEB_HOST choose where it listens.
serve:
	@$(PY) -m photo_ai_cli serve

serve-start:
	@$(PY) -m photo_ai_cli serve --background

serve-stop:
	@$(PY) -m photo_ai_cli serve --stop

serve-status:
	@$(PY) -m photo_ai_cli serve --status

# The worker service (photo-ai work --follow): analyses photos as soon as they are queued.
# `make demo` leaves it running in the background.
worker-start:
	@$(PY) -m photo_ai_cli work --follow --background

worker-stop:
	@$(PY) -m photo_ai_cli work --stop

lint: build
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/pgspot --ignore-lang=plpython3u \
		--proc-without-search-path 'photo_ai.run_worker(max_seconds integer,batch_size integer,until_idle boolean,INOUT summary jsonb)' \
		extensions/photo_ai/photo_ai--$$(sed -n "s/^default_version = '\(.*\)'/\1/p" extensions/photo_ai/photo_ai.control).sql
	@scripts/lint_dockerfiles.sh

pytest:
	@$(VENV)/bin/pytest $(PYTEST_ARGS)

# The test command: set-up (fast when already done), the cluster, the extension, the
# static checks, then the whole suite.
test: setup db-start install lint pytest

clean:
	rm -rf build .pytest_cache .ruff_cache extensions/photo_ai/photo_ai--*.sql
