"""Where heavy steps run: in the run's own process (local), or on Databricks through the step launcher;
and the Spark session large backfills use. defs/environments.py picks one of each per FORECAST_ENV.

Under FORECAST_ENV=databricks, training steps go to a new single-node ML runtime
cluster and forecasting steps to a multi-worker cluster (or an existing one),
both from the files in deploy/databricks/. Host and token are read from the
environment by Dagster at run time ({"env": ...} config), so they never sit in
code, config files, logs or metadata. The launcher is dagster-databricks' with
the project's additions (defs/databricks_launcher.py).
"""

import copy
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import yaml

from forecast_assets.config import ConfigError, Settings
from forecast_assets.defs import cluster_libraries
from forecast_assets.defs.failures import SPEC_ENV

TRAINING = "training_launcher"
BACKFILL = "backfill_launcher"
SPARK = "pyspark"
STEPS_FOLDER = "steps"  # under the staging volume: each step's code, step ref, events and logs
REPO_DIR = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Passed on to the clusters as set here, for Settings.from_env to read there.
CLUSTER_VARS = ("FORECAST_COMMODITIES", "FORECAST_START_DATE", "FORECAST_MODEL_VERSION", "FORECAST_N_PATHS",
                "FORECAST_HORIZON", "FORECAST_CALENDARS", "FORECAST_SEED", "FORECAST_SPARK_MIN_DAYS",
                "FORECAST_ARTIFACT_DIR",
                "DATABRICKS_HOST", "DATABRICKS_HTTP_PATH", "FORECAST_DATABRICKS_CATALOG", "FORECAST_DATABRICKS_VOLUME")


def spec_path(name: str, settings: Settings) -> Path:
    return settings.databricks_deploy_dir / f"{name}.yaml"


def shown_path(path: Path) -> str:
    """A spec file as a user finds it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(REPO_DIR))
    except ValueError:
        return str(path)


def launcher_config(name: str, settings: Settings, environ: Mapping[str, str] | None = None) -> dict:
    """The step launcher config of deploy/databricks/<name>.yaml, completed from the settings; the
    CLUSTER_VARS set in `environ` (default: this process's) go with it."""
    e = os.environ if environ is None else environ
    path = spec_path(name, settings)
    try:
        cfg = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"FORECAST_ENV=databricks needs the launcher config {path}") from None
    cfg = copy.deepcopy(cfg)
    for key in ("databricks_host", "databricks_token"):
        if key in cfg:
            raise ConfigError(f"{path} must not hold {key}: set DATABRICKS_HOST / DATABRICKS_TOKEN instead")
    cfg["databricks_host"] = {"env": "DATABRICKS_HOST"}
    cfg["databricks_token"] = {"env": "DATABRICKS_TOKEN"}
    # The exact pins of what the steps import (`make cluster-specs` writes them from constraints.txt); a spec
    # that lists `libraries` itself replaces them.
    cfg["run_config"].setdefault("libraries", list(cluster_libraries.LIBRARIES))
    # Staging on the Unity Catalog volume (Files API); a spec's own staging_prefix outside /Volumes is DBFS.
    cfg.setdefault("staging_prefix", f"{settings.databricks_volume}/{STEPS_FOLDER}")
    cfg.setdefault("secrets_to_env_variables", [])  # the launcher raises TypeError without it (docs/decisions.md)
    # Required upstream; the project's launcher ships a staged copy of the package instead of this folder.
    cfg["local_dagster_job_package_path"] = str(PACKAGE_DIR.parent)
    if name == BACKFILL and settings.databricks_cluster_id:
        cfg["run_config"]["cluster"] = {"existing": settings.databricks_cluster_id}
    env_vars = cfg.setdefault("env_variables", {})
    env_vars[SPEC_ENV] = shown_path(path)
    for var in CLUSTER_VARS:
        if e.get(var):
            env_vars.setdefault(var, e[var])
    # Large fitted models are files: on a UC volume every cluster reads what the training cluster
    # wrote; the default (a folder on the cluster's own disk) dies with the cluster.
    env_vars.setdefault("FORECAST_ARTIFACT_DIR", f"/Volumes/{settings.databricks_catalog}/forecast/artifacts")
    return cfg


# What the environment table (defs/environments.py) picks from: step launchers, then Spark resources.

def in_process(settings: Settings) -> dict:
    """No launcher: steps run where the run runs."""
    return {TRAINING: dg.ResourceDefinition.none_resource(), BACKFILL: dg.ResourceDefinition.none_resource()}


def databricks_launchers(settings: Settings) -> dict:
    """Training on a new single-node ML cluster, backfills on a multi-worker (or an existing) one."""
    from forecast_assets.defs.databricks_launcher import Timeouts, forecast_step_launcher

    timeouts = Timeouts.from_settings(settings)
    return {name: forecast_step_launcher(shown_path(spec_path(name, settings)), (PACKAGE_DIR,), timeouts)
            .configured(launcher_config(name, settings)) for name in (TRAINING, BACKFILL)}


# The PySpark session large backfills fan out on. Lazy: the session starts when a step asks for it.
# An eager one would also start on the Dagster host, which builds a step's resources before handing
# the step to the launcher (a local Spark driver, and Java, on the host for nothing), and for every
# short run.

def local_spark(settings: Settings) -> dict:
    """A local session with FORECAST_SPARK=local (or a master URL), none otherwise."""
    if not settings.spark:
        return {SPARK: dg.ResourceDefinition.none_resource()}
    from dagster_pyspark import LazyPySparkResource

    master = "local[*]" if settings.spark == "local" else settings.spark
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need this interpreter's packages
    return {SPARK: LazyPySparkResource(spark_config={
        "spark.sql.session.timeZone": "UTC", "spark.master": master, "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "8"})}


def cluster_spark(settings: Settings) -> dict:
    """The session of the Databricks cluster the step runs on."""
    from dagster_pyspark import LazyPySparkResource

    return {SPARK: LazyPySparkResource(spark_config={"spark.sql.session.timeZone": "UTC"})}
