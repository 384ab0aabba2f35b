"""FORECAST_ENV=databricks at its boundary: definitions load with dummy credentials, heavy steps are
bound to Databricks step launchers built from deploy/databricks/, secrets stay out of config, and
known failures carry a cause and a hint. No workspace is reachable from here."""

import dataclasses
import os
from pathlib import Path

import dagster as dg
import pytest
from dagster_databricks.databricks_pyspark_step_launcher import DatabricksPySparkStepLauncher

from forecast_assets.config import Settings
from forecast_assets.definitions import build_definitions
from forecast_assets.defs.databricks_launcher import ForecastStepLauncher, stage_packages
from forecast_assets.defs.failures import explained_failures
from forecast_assets.defs.launchers import BACKFILL, PACKAGE_DIR, SPARK, SPEC_ENV, TRAINING, launcher_config
from forecast_assets.defs.failures import explain, pip_requirement

DUMMY = {"FORECAST_ENV": "databricks", "DATABRICKS_HOST": "https://dummy.cloud.databricks.com",
         "DATABRICKS_TOKEN": "dapi-not-a-real-token", "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/dummy"}


@pytest.fixture
def databricks_defs(monkeypatch):
    for k, v in DUMMY.items():
        monkeypatch.setenv(k, v)
    return build_definitions(Settings.from_env())


def test_heavy_steps_are_bound_to_the_step_launchers(databricks_defs):
    graph = databricks_defs.resolve_asset_graph()
    for m in ("naive", "xgboost", "sarimax_auto_weather"):
        assert TRAINING in databricks_defs.resolve_assets_def(dg.AssetKey(["trained_models", m])).required_resource_keys
        assert BACKFILL in databricks_defs.resolve_assets_def(dg.AssetKey(["forecasts", m])).required_resource_keys
    assert BACKFILL in databricks_defs.resolve_assets_def(dg.AssetKey("forecast_metadata")).required_resource_keys
    assert graph.get(dg.AssetKey("model_performance"))
    resources = databricks_defs.get_repository_def().get_top_level_resources()
    with dg.build_resources({TRAINING: resources[TRAINING], BACKFILL: resources[BACKFILL]}) as r:
        train, backfill = getattr(r, TRAINING), getattr(r, BACKFILL)
        assert isinstance(train, DatabricksPySparkStepLauncher) and isinstance(backfill, DatabricksPySparkStepLauncher)
        assert isinstance(train, ForecastStepLauncher) and train.packages == [PACKAGE_DIR]
        assert train.spec_file == "deploy/databricks/training_launcher.yaml"
        assert backfill.spec_file == "deploy/databricks/backfill_launcher.yaml"
        assert train.env_variables[SPEC_ENV] == train.spec_file  # the remote step's hints name it too
        new = train.run_config["cluster"]["new"]
        assert new["size"] == {"num_workers": 0} and "-cpu-ml-" in new["spark_version"]
        assert {"pypi": {"package": "pmdarima==2.1.1"}} in train.run_config["libraries"]
        assert backfill.run_config["cluster"]["new"]["size"]["num_workers"] >= 2
        assert Path(train.local_dagster_job_package_path, "forecast_assets").is_dir()
        assert train.env_variables["FORECAST_ENV"] == "databricks"
    assert databricks_defs.resolve_job_def("train_models").executor_def.name == "multiprocess"
    with dg.build_resources({"forecast": resources["forecast"]}) as r:
        assert r.forecast.env == "databricks" and r.forecast.delta_catalog == "commodity"
    graph = databricks_defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey(["forecasts", "naive"])).kinds == {"python", "databricks", "delta", "spark"}
    assert graph.get(dg.AssetKey(["trained_models", "naive"])).kinds == {"python", "databricks", "delta"}
    assert graph.get(dg.AssetKey("unified_data")).kinds == {"databricks", "delta"}
    # The host builds a step's resources before launching it: no Spark session (nor Java) starts there.
    with dg.build_resources({SPARK: resources[SPARK]}) as r:
        assert getattr(r, SPARK)._spark_session is None


NOT_ON_CLUSTERS = '''
import sys
class NotInstalled:  # the cluster specs do not install duckdb: importing it fails as it would there
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "duckdb":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NotInstalled())
import forecast_assets.definitions as d
assert d.defs.resolve_asset_graph()
'''


def test_the_code_location_loads_on_a_cluster_without_duckdb():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "FORECAST_"))}
    env |= DUMMY | {"PYTHONPATH": str(PACKAGE_DIR.parent)}
    proc = subprocess.run([sys.executable, "-c", NOT_ON_CLUSTERS], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_local_env_runs_steps_in_process():
    defs = build_definitions(dataclasses.replace(Settings.from_env({}), env="local"))
    resources = defs.get_repository_def().get_top_level_resources()
    with dg.build_resources({TRAINING: resources[TRAINING]}) as r:
        assert getattr(r, TRAINING) is None


def test_an_existing_cluster_for_backfills_and_no_secret_in_any_config(monkeypatch):
    env = {**DUMMY, "FORECAST_DATABRICKS_CLUSTER_ID": "1121-061338-abcd"}
    cfg = launcher_config(BACKFILL, Settings.from_env(env), env)
    assert cfg["run_config"]["cluster"] == {"existing": "1121-061338-abcd"}
    # Settings the step's code reads on the cluster go with it; model files go to a UC volume by default.
    assert cfg["env_variables"]["FORECAST_ARTIFACT_DIR"] == "/Volumes/commodity/forecast/artifacts"
    env = {**DUMMY, "FORECAST_SPARK_MIN_DAYS": "30", "FORECAST_DATABRICKS_CATALOG": "c2"}
    cfg = launcher_config(TRAINING, Settings.from_env(env), env)
    assert cfg["env_variables"]["FORECAST_SPARK_MIN_DAYS"] == "30"
    assert cfg["env_variables"]["FORECAST_ARTIFACT_DIR"] == "/Volumes/c2/forecast/artifacts"
    assert cfg["databricks_token"] == {"env": "DATABRICKS_TOKEN"} and cfg["databricks_host"] == {"env": "DATABRICKS_HOST"}
    assert "dapi-not-a-real-token" not in repr(cfg)
    assert "dapi-not-a-real-token" not in repr(launcher_config(TRAINING, Settings.from_env(DUMMY), DUMMY))
    for f in Path(__file__).resolve().parents[2].joinpath("deploy").rglob("*"):
        if f.is_file():
            text = f.read_text()
            assert "dapi" not in text and "databricks_token:" not in text, f


@pytest.mark.parametrize("error, cause", [
    (ModuleNotFoundError("No module named 'pmdarima'"), "missing library"),
    (TypeError("naive_train() got an unexpected keyword argument 'horizon'"), "parameter mismatch"),
    (RuntimeError("[UNRESOLVED_COLUMN] Column 'training_cutoff_date' cannot be resolved"), "schema drift"),
    (ConnectionError("Invalid SessionHandle: session expired"), "session timeout"),
])
def test_known_failures_carry_cause_and_hint(error, cause):
    assert explain(error)[0] == cause
    with pytest.raises(dg.Failure) as info:
        with explained_failures():
            raise error
    assert info.value.metadata["cause"].value == cause and "hint" in info.value.description


@pytest.mark.parametrize("error, library, requirement", [
    (ModuleNotFoundError("No module named 'pmdarima.arima'"), "pmdarima", "pmdarima==2.1.1"),
    (ImportError("cannot import name 'check_array' from 'sklearn.utils' (/x/sklearn/utils/__init__.py)"),
     "sklearn", "scikit-learn=="),
    (ModuleNotFoundError("No module named 'dagster_databricks'"), "dagster_databricks", "dagster-databricks==0.29.27"),
    (ModuleNotFoundError("No module named 'yaml'"), "yaml", "pyyaml=="),
])
def test_a_missing_library_hint_names_the_library_and_the_spec_file(error, library, requirement):
    cause, hint = explain(error, "deploy/databricks/training_launcher.yaml")
    assert cause == "missing library" and f"`{library}`" in hint and requirement in hint
    assert "`libraries` in deploy/databricks/training_launcher.yaml" in hint
    assert "deploy/databricks/*_launcher.yaml" in explain(error)[1]  # spec unknown: the hint says where to look


def test_hints_for_the_projects_own_package_and_a_failed_install():
    _, hint = explain("ModuleNotFoundError: No module named 'forecast_assets'", "deploy/databricks/x.yaml")
    assert "project's own package" in hint and "code.zip" in hint
    cause, hint = explain("Library installation failed for library due to user error for pypi {package: "
                          "\"pmdarima==9.9\"}", "deploy/databricks/backfill_launcher.yaml")
    assert cause == "library install failed" and "deploy/databricks/backfill_launcher.yaml" in hint
    assert pip_requirement("not_a_listed_module") == "not-a-listed-module"


def test_a_failure_on_the_cluster_names_the_spec_it_ran_with(monkeypatch):
    monkeypatch.setenv(SPEC_ENV, "deploy/databricks/backfill_launcher.yaml")
    with pytest.raises(dg.Failure) as info:
        with explained_failures():
            raise ModuleNotFoundError("No module named 'xgboost'")
    assert 'xgboost-cpu==' in info.value.description
    assert "deploy/databricks/backfill_launcher.yaml" in info.value.metadata["hint"].value


def test_only_the_package_is_staged_and_a_skipped_folder_is_refused(tmp_path):
    root = Path("/tmp") / f"stage-{tmp_path.name}"  # not below pytest-of-*: the zip would drop it
    root.mkdir()
    try:
        stage_packages(root, [PACKAGE_DIR])
        staged = {p.relative_to(root).parts[0] for p in root.rglob("*")}
        assert staged == {"forecast_assets"} and not list(root.rglob("__pycache__"))
        assert (root / "forecast_assets" / "defs" / "databricks_launcher.py").is_file()
    finally:
        import shutil
        shutil.rmtree(root)
    with pytest.raises(dg.DagsterInvariantViolationError, match="ship empty"):
        stage_packages(tmp_path, [PACKAGE_DIR])  # /tmp/pytest-of-*/...
    with pytest.raises(dg.DagsterInvariantViolationError, match="not a Python package"):
        stage_packages(Path("/tmp"), [tmp_path])


def test_unknown_failures_pass_through():
    assert explain(ValueError("something else")) is None
    with pytest.raises(ValueError):
        with explained_failures():
            raise ValueError("something else")


@pytest.mark.parametrize("path", ["dagster.yaml", "deploy/dagster.yaml"])
def test_instance_configs_are_valid(path, tmp_path):
    from dagster._core.instance.config import dagster_instance_config

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "dagster.yaml").write_text((root / path).read_text())
    cfg, _ = dagster_instance_config(str(tmp_path))
    assert cfg["concurrency"]["runs"]["max_concurrent_runs"] >= 1
    if path.startswith("deploy"):
        assert "postgres" in cfg["storage"] and cfg["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_the_launchers_waits_come_from_the_settings_with_bounded_defaults(monkeypatch):
    from forecast_assets.config import ConfigError
    from forecast_assets.defs.databricks_launcher import Timeouts

    assert Timeouts.from_settings(Settings.from_env(DUMMY)) == Timeouts(30, 300, 1800, 300)
    env = {**DUMMY, "FORECAST_DATABRICKS_CONNECT_TIMEOUT": "5", "FORECAST_DATABRICKS_UPLOAD_TIMEOUT": "60",
           "FORECAST_DATABRICKS_START_TIMEOUT": "900", "FORECAST_DATABRICKS_POLL_TIMEOUT": "120"}
    assert Timeouts.from_settings(Settings.from_env(env)) == Timeouts(5, 60, 900, 120)
    for var, bad in [("FORECAST_DATABRICKS_CONNECT_TIMEOUT", "0"), ("FORECAST_DATABRICKS_POLL_TIMEOUT", "soon"),
                     ("FORECAST_DATABRICKS_START_TIMEOUT", "99999")]:
        with pytest.raises(ConfigError, match=var):
            Settings.from_env({**DUMMY, var: bad})
    # The launcher the definitions build carries them, and its client's requests are bounded by the connect one.
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    launcher = ForecastStepLauncher("x.yaml", [PACKAGE_DIR], Timeouts.from_settings(Settings.from_env()),
                                    **{k: v for k, v in launcher_config(TRAINING, Settings.from_env(), env).items()
                                       if k not in ("databricks_host", "databricks_token")},
                                    databricks_host=DUMMY["DATABRICKS_HOST"], databricks_token=DUMMY["DATABRICKS_TOKEN"])
    config = launcher.databricks_runner.client.workspace_client.config
    assert config.http_timeout_seconds == 5 and config.retry_timeout_seconds == 5
    assert launcher.timeouts.start == 900
