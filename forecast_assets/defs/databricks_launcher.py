"""dagster-databricks' step launcher with what this project adds on top.

- It ships only the project's package. The upstream launcher zips the whole folder it
  is given: from a checkout that holds .venv and .git, from an installed package all of
  site-packages; and it silently drops paths matching `pytest`, `/venv/` or `/logs/`.
- A Databricks run that fails before Dagster's step code runs (the cluster lacks a
  library, the package did not arrive, a library failed to install) arrives upstream as
  "Run ... failed with result state FAILED". Here it fails the step with the cause, a
  hint naming the library and the cluster spec file to fix, the remote error and the
  run's Databricks URL in the metadata.
- Failures reported by the remote step itself get the run's URL in their metadata too.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
# Not public API: the upstream class, its error, and the failure record we add the run URL to.
from dagster._core.execution.plan.objects import StepFailureData, UserFailureData
from dagster_databricks.databricks import DatabricksError
from dagster_databricks.databricks_pyspark_step_launcher import (
    DatabricksPySparkStepLauncher,
    databricks_pyspark_step_launcher,
)
from dagster_pyspark.utils import DEFAULT_EXCLUDE

from forecast_assets.defs.failures import explain, missing_library

_ERROR_LINE = re.compile(r"^\s*([\w.]*(Error|Exception|Failure)\b.*)$", re.M)
_TAIL = 4000  # characters of the remote stderr kept in the failure's metadata


class ForecastStepLauncher(DatabricksPySparkStepLauncher):
    def __init__(self, spec_file: str, packages: Sequence[str | Path], **config):
        with warnings.catch_warnings():
            # The issue asks for this launcher by name; Dagster's advice to prefer Pipes is only noise here.
            warnings.simplefilter("ignore", dg.SupersessionWarning)
            super().__init__(**config)
        self.spec_file = spec_file
        self.packages = [Path(p) for p in packages]
        self._run_urls: dict[tuple[str, str], str] = {}

    # ---- what is shipped ---------------------------------------------------------------------
    def launch_step(self, step_context):
        with tempfile.TemporaryDirectory(prefix="forecast-assets-code-") as root:
            self.local_dagster_job_package_path = stage_packages(root, self.packages)
            yield from super().launch_step(step_context)

    # ---- failures ----------------------------------------------------------------------------
    def step_events_iterator(self, step_context, step_key: str, databricks_run_id: int) -> Iterator[dg.DagsterEvent]:
        url = self._run_url(databricks_run_id)
        if url:
            self._run_urls[(step_context.run_id, step_key)] = url
        try:
            yield from super().step_events_iterator(step_context, step_key, databricks_run_id)
        except DatabricksError as exc:
            raise self.remote_failure(exc, step_context, step_key, databricks_run_id, url) from exc

    def get_step_events(self, run_id: str, step_key: str, retry_number: int):
        events = super().get_step_events(run_id, step_key, retry_number)
        url = self._run_urls.get((run_id, step_key))
        return [with_run_url(e, url) for e in events] if url else events

    def remote_failure(self, exc: DatabricksError, step_context, step_key: str, databricks_run_id: int,
                       url: str | None) -> dg.Failure:
        """The step's failure for a Databricks run that failed outside Dagster's step code."""
        remote = self._remote_error_text(step_context, step_key, databricks_run_id)
        text = f"{remote}\n{exc}"
        known = explain(text, self.spec_file)
        cause, hint = known or ("databricks run failed", "the Databricks run ended without the step reporting "
                                "back (see databricks_state): open the run page for the driver's log and the "
                                "cluster's event log")
        error = _error_line(remote) or str(exc)
        metadata = {"cause": cause, "hint": hint, "error": error, "cluster_spec": self.spec_file,
                    "databricks_run_id": databricks_run_id, "databricks_state": str(exc)}
        if lib := missing_library(text):
            metadata["library"] = lib[0]
        if url:
            metadata["databricks_run_url"] = dg.MetadataValue.url(url)
        if remote:
            # From the last traceback when there is one (the cause), else the tail; warnings after
            # it can make a plain tail start past the traceback.
            start = remote.rfind("Traceback")
            tail = remote[start:] if start >= 0 and len(remote) - start <= 4 * _TAIL else remote[-_TAIL:]
            metadata["remote_stderr"] = dg.MetadataValue.text(tail)
        where = f"\nDatabricks run: {url}" if url else ""
        return dg.Failure(description=f"{cause}: {error}\nhint: {hint}{where}", metadata=metadata)

    def _remote_error_text(self, step_context, step_key: str, databricks_run_id: int) -> str:
        """What the cluster said: the step's stderr file on DBFS (written by the launcher's main script once
        it started) and the task run's error output (also when the script failed on its own imports)."""
        parts = []
        try:
            parts.append(self.databricks_runner.client.read_file(
                self._dbfs_path(step_context.run_id, step_key, "stderr")).decode(errors="replace"))
        except Exception as e:  # noqa: BLE001 - a missing file only means the script never got that far
            step_context.log.debug(f"no stderr file for {step_key} on DBFS: {e}")
        try:
            jobs = self.databricks_runner.client.workspace_client.jobs
            for task in jobs.get_run(databricks_run_id).tasks or []:
                out = jobs.get_run_output(task.run_id)
                parts += [out.error or "", out.error_trace or ""]
        except Exception as e:  # noqa: BLE001 - best effort: the failure is raised either way
            step_context.log.warning(f"could not read the output of Databricks run {databricks_run_id}: {e}")
        return "\n".join(p for p in parts if p.strip())

    def _run_url(self, databricks_run_id: int) -> str | None:
        try:
            return self.databricks_runner.client.workspace_client.jobs.get_run(databricks_run_id).run_page_url
        except Exception:  # noqa: BLE001 - the URL is a convenience; the upstream poll reports API errors
            return None


def stage_packages(root: str | Path, packages: Sequence[Path]) -> str:
    """Copy the packages to ship into root (what the launcher zips), refusing a root the zip would skip."""
    root = Path(root)
    if any(re.search(p, str(root / "x.py")) for p in DEFAULT_EXCLUDE):
        raise dg.DagsterInvariantViolationError(
            f"staging folder {root} matches one of dagster-pyspark's zip exclusions {DEFAULT_EXCLUDE}: the package "
            f"would ship empty; set TMPDIR to another folder")
    for pkg in packages:
        if not (pkg / "__init__.py").is_file():
            raise dg.DagsterInvariantViolationError(f"{pkg} is not a Python package: nothing to ship")
        shutil.copytree(pkg, root / pkg.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return str(root)


def with_run_url(entry, url: str):
    """A remote STEP_FAILURE event with the Databricks run URL added to its failure metadata."""
    event = entry.dagster_event if entry.is_dagster_event else None
    if event is None or event.event_type != dg.DagsterEventType.STEP_FAILURE:
        return entry
    data: StepFailureData = event.event_specific_data
    user = data.user_failure_data or UserFailureData(label="databricks", description=None, metadata={})
    user = user._replace(metadata={**user.metadata, "databricks_run_url": dg.MetadataValue.url(url)})
    return entry._replace(dagster_event=event._replace(event_specific_data=data._replace(user_failure_data=user)))


def _error_line(text: str) -> str | None:
    """The remote error: the root of a traceback's chain (printed first) that is a known failure, else the last."""
    found = [m[0].strip() for m in _ERROR_LINE.findall(text or "")]
    return next((line for line in found if explain(line)), found[-1] if found else None)


def forecast_step_launcher(spec_file: str, packages: Sequence[str | Path]) -> dg.ResourceDefinition:
    """A step launcher resource taking databricks_pyspark_step_launcher's config."""
    return dg.ResourceDefinition(
        resource_fn=lambda context: ForecastStepLauncher(spec_file, packages, **context.resource_config),
        config_schema=databricks_pyspark_step_launcher.config_schema,
        description=f"Runs the step on Databricks (cluster spec {spec_file}), shipping only the project's package.",
    )
