"""Imported by the fork server once: what every run it forks would otherwise import or load itself."""

import importlib
import tempfile
import threading

from dagster._core.instance import DagsterInstance

import forecast_assets.definitions  # noqa: F401
from forecast_assets.core.models import model_class
from forecast_assets_tests.reliability import children, runs  # noqa: F401

model_class("naive")
# Loaded lazily by a run: instance storage, migrations, the selection parser.
for name in ("dagster._core.definitions.antlr_asset_selection.antlr_asset_selection", "dagster._daemon",
             "dagster._core.executor.in_process", "dagster._core.storage.local_compute_log_manager"):
    importlib.import_module(name)
with tempfile.TemporaryDirectory() as d, DagsterInstance.local_temp(tempdir=d):
    pass
# Forking is safe only from a single thread.
assert threading.active_count() == 1, threading.enumerate()
