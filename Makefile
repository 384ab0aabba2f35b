# Quick start: `make demo`, then `make test`. Everything runs from .venv, made here.
SHELL := /bin/bash
# Python 3.12: `python3.12` if it really runs (a pyenv shim on PATH may exist and refuse), else an
# install in pyenv's versions folder. Override with PYTHON=/path/to/python3.12.
ifndef PYTHON
PYTHON := $(shell for p in python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12; do \
  "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
endif
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export FORECAST_DATA_DIR ?= $(CURDIR)/data
# The UI has no login: it listens on this machine only, unless FORECAST_UI_HOST says otherwise.
FORECAST_UI_HOST ?= 127.0.0.1
FORECAST_UI_PORT ?= 3000
# `dagster asset materialize` (the demo's runs) and `dagster dev` (make ui) are superseded by the `dg` CLI of a
# separate package; they still work, and the SupersessionWarning they print on every run is only noise here.
export PYTHONWARNINGS := ignore:Function `asset_materialize_command` is superseded:FutureWarning,ignore:Function `dev_command` is superseded:FutureWarning

# The demo: two semiannual windows trained, and ten months of daily forecasts backfilled, per commodity.
DEMO_COMMODITIES ?= Coffee Sugar
DEMO_WINDOWS ?= 2025-01-01...2025-07-01
DEMO_DAYS ?= 2025-01-01...2025-10-31
W0 = $(word 1,$(subst ..., ,$(DEMO_WINDOWS)))
W1 = $(word 2,$(subst ..., ,$(DEMO_WINDOWS)))
D0 = $(word 1,$(subst ..., ,$(DEMO_DAYS)))
D1 = $(word 2,$(subst ..., ,$(DEMO_DAYS)))
MODELS := trained_models/naive,trained_models/xgboost,trained_models/sarimax_auto_weather
FORECASTS := forecasts/naive,forecasts/xgboost,forecasts/sarimax_auto_weather,actuals,forecast_metadata
ENSEMBLE := forecasts/ensemble,forecast_metadata
MATERIALIZE := $(BIN)/dagster asset materialize -m forecast_assets.definitions

.PHONY: setup demo test bench scaling quality quality-oracle ui explore browser clean cluster-specs

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 is needed: no working python3.12 on PATH or in pyenv's versions;" \
	  "install one or pass PYTHON=/path/to/python3.12" >&2; exit 1; }
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null \
	  || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/python -m uv pip install -q --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[databricks,dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

# Bytecode for the project's own modules too (uv compiled the packages): a shell with
# PYTHONDONTWRITEBYTECODE set would otherwise compile them in every run process (~0.15 s each).
setup: $(STAMP)
	@mkdir -p "$(DAGSTER_HOME)" && cp dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"
	@$(BIN)/python -m compileall -q forecast_assets

# Logs go to FORECAST_DATA_DIR, which need not hold the database (FORECAST_DUCKDB_PATH may point anywhere).
# Then the window containing today is trained too, so the 08:00 daily_inference schedule works.
demo: setup
	@start=$$(date +%s); logs="$(FORECAST_DATA_DIR)"; mkdir -p "$$logs" && \
	$(BIN)/forecast-assets load-sample && \
	now=$$($(BIN)/forecast-assets current-window) && \
	for c in $(DEMO_COMMODITIES); do \
	  echo "== training every model for $$c, windows $(W0) to $(W1)"; \
	  $(MATERIALIZE) --select '$(MODELS)' --partition-range "$$c|$(W0)...$$c|$(W1)" > "$$logs/demo-train-$$c.log" 2>&1 \
	    || { tail -30 "$$logs/demo-train-$$c.log"; exit 1; }; \
	  if [[ "$$now" > "$(W1)" ]]; then \
	    echo "== training every model for $$c, window $$now (contains today: the daily schedule forecasts with it)"; \
	    $(MATERIALIZE) --select '$(MODELS)' --partition "$$c|$$now" > "$$logs/demo-train-now-$$c.log" 2>&1 \
	      || { tail -30 "$$logs/demo-train-now-$$c.log"; exit 1; }; \
	  fi; \
	  echo "== forecasting every day from $(D0) to $(D1) for $$c"; \
	  $(MATERIALIZE) --select '$(FORECASTS)' --partition-range "$$c|$(D0)...$$c|$(D1)" > "$$logs/demo-forecast-$$c.log" 2>&1 \
	    || { tail -30 "$$logs/demo-forecast-$$c.log"; exit 1; }; \
	  echo "== the ensemble for $$c: its weights from the forecasts before each window, then its forecasts"; \
	  $(MATERIALIZE) --select trained_models/ensemble --partition-range "$$c|$(W0)...$$c|$$( [[ "$$now" > "$(W1)" ]] && echo $$now || echo $(W1))" \
	    > "$$logs/demo-ensemble-train-$$c.log" 2>&1 || { tail -30 "$$logs/demo-ensemble-train-$$c.log"; exit 1; }; \
	  $(MATERIALIZE) --select '$(ENSEMBLE)' --partition-range "$$c|$(D0)...$$c|$(D1)" > "$$logs/demo-ensemble-$$c.log" 2>&1 \
	    || { tail -30 "$$logs/demo-ensemble-$$c.log"; exit 1; }; \
	done && \
	echo "== comparing the models" && \
	$(MATERIALIZE) --select model_performance > "$$logs/demo-evaluate.log" 2>&1 \
	  || { tail -30 "$$logs/demo-evaluate.log"; exit 1; }; \
	$(BIN)/forecast-assets summary && echo && \
	$(BIN)/forecast-assets report && \
	echo "demo done in $$(( $$(date +%s) - start )) s; run logs in $$logs/demo-*.log; UI: make ui"

test: setup browser
	$(BIN)/python -m pytest -q

# Chromium and chromedriver from Debian's packages, for the explorer's browser test (installed when missing).
browser:
	@scripts/ensure_browser.sh

bench: setup
	$(BIN)/python bench/perf.py

# How cost grows with commodities and partitions (2/8/32 commodities' compute; Dagster's own time up to
# 100 commodities x every day); a table, no verdicts; BENCHMARKS.md has the figures.
scaling: setup
	$(BIN)/python bench/scaling.py $(SCALING_ARGS)

# Forecast quality on real daily prices (arch's WTI, S&P 500, NASDAQ) and the synthetic sample, per
# regime, PASS/FAIL per line; ~15 min on 2 cores. QUALITY_ARGS=--quick for a few minutes (README).
quality: setup
	$(BIN)/python bench/quality_real.py $(QUALITY_ARGS)

# How often a perfectly calibrated forecaster (GJR-GARCH-t prices fitted to WTI, forecast with the true
# predictive distribution) fails make quality's coverage targets over regime-length stretches; ~30 s.
quality-oracle: setup
	$(BIN)/python bench/quality_oracle.py $(ORACLE_ARGS)

ui: setup
	@case "$(FORECAST_UI_HOST)" in 127.0.0.1|localhost|::1) ;; \
	  *) echo "warning: the UI has no authentication; FORECAST_UI_HOST=$(FORECAST_UI_HOST) opens it to the network" >&2;; esac
	@scripts/dagster_ui.sh $(BIN)/dagster -m forecast_assets.definitions -h "$(FORECAST_UI_HOST)" -p "$(FORECAST_UI_PORT)"

# The forecast explorer: a day's fan chart and table, the model comparison; read-only over the same store.
# http://127.0.0.1:$FORECAST_EXPLORER_PORT (8050), this machine only (no login, like the UI).
explore: setup
	$(BIN)/python -m forecast_assets.explorer

# The Databricks clusters' libraries: the exact pins of constraints.txt for what the steps import
# (forecast_assets/defs/cluster_libraries.py; deploy/README.md). Run after changing pyproject.toml or constraints.txt.
cluster-specs: setup
	$(BIN)/python -m forecast_assets.defs.cluster_specs

clean:
	rm -rf $(VENV) data .dagster_home
