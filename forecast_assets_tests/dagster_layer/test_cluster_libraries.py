"""The clusters' libraries (defs/cluster_libraries.py) are what `make cluster-specs` writes from the current
constraints.txt and pyproject.toml, and the launchers put exactly them in every cluster spec."""

import pytest

from forecast_assets.config import Settings
from forecast_assets.defs import cluster_libraries, cluster_specs
from forecast_assets.defs.launchers import BACKFILL, TRAINING, launcher_config


def test_the_generated_module_matches_constraints_txt():
    assert cluster_specs.TARGET.read_text() == cluster_specs.render(), (
        "forecast_assets/defs/cluster_libraries.py is stale: run `make cluster-specs`")
    pinned = {}
    for line in cluster_specs.CONSTRAINTS.read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep:
            pinned[cluster_specs.canonical(name)] = version.strip()
    assert cluster_libraries.PINS and all(pinned[d] == v for d, v in cluster_libraries.PINS.items())


def test_the_pins_cover_what_the_steps_import_and_leave_out_the_runtimes_own():
    pins = cluster_libraries.PINS
    for needed in ("dagster", "dagster-databricks", "dagster-pyspark", "pmdarima", "xgboost-cpu", "scoringrules",
                   "databricks-sql-connector", "pandas", "numpy", "statsmodels", "exchange-calendars"):
        assert needed in pins
    assert not set(pins) & {"pyspark", "dagster-webserver", "duckdb"}


def test_a_constraint_missing_for_a_dependency_is_refused(tmp_path):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("\n".join(line for line in cluster_specs.CONSTRAINTS.read_text().splitlines()
                                     if not line.startswith("scoringrules==")))
    with pytest.raises(SystemExit, match="constraints.txt pins no version of scoringrules"):
        cluster_specs.render(constraints)


@pytest.mark.parametrize("name", [TRAINING, BACKFILL])
def test_every_spec_gets_the_pins_and_stages_on_the_volume(name):
    settings = Settings.from_env({"FORECAST_ENV": "databricks", "FORECAST_DATABRICKS_CATALOG": "fc"})
    cfg = launcher_config(name, settings, {})
    assert cfg["run_config"]["libraries"] == cluster_libraries.LIBRARIES
    assert cfg["run_config"]["cluster"]["new"]["spark_version"] == "17.3.x-cpu-ml-scala2.13"
    assert cfg["staging_prefix"] == "/Volumes/fc/forecast/staging/steps"
