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
- Staging on a Unity Catalog volume: with a `/Volumes/...` staging prefix the files go through the
  Files API (databricks-sdk) and the cluster reads and writes them at the same path; a prefix outside
  /Volumes stays on DBFS as upstream does it (deploy/README.md).
- Bounded waits (Timeouts): reaching the workspace, uploading, the cluster's start and polling each end,
  when they run out, in a dg.Failure naming the host, the step and what to check (never the token).
- The job's main script is defs/databricks_step_entry.py: it checks the cluster's Python and libraries
  against this host's first, then runs upstream's databricks_step_main.py.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import dagster as dg
import requests
# Not public API: the upstream class, its error, and the failure record we add the run URL to.
from dagster._core.execution.plan.objects import StepFailureData, UserFailureData
from dagster_databricks.databricks import DatabricksClient, DatabricksError
from dagster_databricks.databricks_pyspark_step_launcher import (
    DatabricksPySparkStepLauncher,
    databricks_pyspark_step_launcher,
)
from dagster_pyspark.utils import DEFAULT_EXCLUDE
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound

from forecast_assets.config import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_POLL_TIMEOUT,
    DEFAULT_START_TIMEOUT,
    DEFAULT_UPLOAD_TIMEOUT,
    Settings,
)
from forecast_assets.defs import cluster_libraries, databricks_step_entry
from forecast_assets.defs.failures import explain, missing_library

_ERROR_LINE = re.compile(r"^\s*([\w.]*(Error|Exception|Failure)\b.*)$", re.M)
_TAIL = 4000  # characters of the remote stderr kept in the failure's metadata
VOLUMES = "/Volumes/"
# What a request that got no answer raises: from requests itself, or the SDK's TimeoutError once its
# retry budget is spent.
_UNANSWERED = (requests.ConnectionError, requests.Timeout, TimeoutError)
_NOT_STARTED = ("PENDING", "QUEUED", "BLOCKED", "WAITING_FOR_RETRY")


@dataclass(frozen=True)
class Timeouts:
    """The launcher's bounded waits in seconds (FORECAST_DATABRICKS_*_TIMEOUT; deploy/README.md says why)."""

    connect: float = DEFAULT_CONNECT_TIMEOUT  # one API request, and the first one that checks the host answers
    upload: float = DEFAULT_UPLOAD_TIMEOUT    # all the staged files of a step
    start: float = DEFAULT_START_TIMEOUT      # submitted -> the run leaves PENDING (cluster up, libraries in)
    poll: float = DEFAULT_POLL_TIMEOUT        # the Jobs API unanswered this long while polling a run

    @classmethod
    def from_settings(cls, s: Settings) -> "Timeouts":
        return cls(s.databricks_connect_timeout, s.databricks_upload_timeout, s.databricks_start_timeout,
                   s.databricks_poll_timeout)


class Unanswered(Exception):
    """A request the workspace did not answer (within the SDK's bounds)."""


class WaitTimedOut(Exception):
    """A bounded wait ran out; phase is one of Timeouts' fields."""

    def __init__(self, phase: str, seconds: float, detail: str = ""):
        super().__init__(f"{phase}: no result within {seconds:g} s{': ' + detail if detail else ''}")
        self.phase, self.seconds, self.detail = phase, seconds, detail


def bounded(phase: str, seconds: float, fn: Callable, *args):
    """fn(*args), or WaitTimedOut after `seconds`.

    Hand-written because the SDK bounds a request (its http timeout) and a retried call (its retry
    budget), not a phase made of several calls such as an upload; a daemon thread waited on with a
    deadline bounds the phase whatever happens inside. An abandoned thread ends by itself when its
    request times out (the client's http timeout is the connect timeout)."""
    out: dict = {}
    done = threading.Event()

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            out["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"databricks-{phase}", daemon=True).start()
    if not done.wait(seconds):
        raise WaitTimedOut(phase, seconds)
    if "error" in out:
        raise out["error"]
    return out.get("value")


class StagingClient(DatabricksClient):
    """dagster-databricks' client on a workspace client with bounded requests, staging `/Volumes/...` paths
    through the Files API (upstream reads and writes DBFS only), and checking a run's start and polling."""

    def __init__(self, workspace_client: WorkspaceClient, host: str, timeouts: Timeouts):
        # Not super().__init__: that builds a workspace client with the SDK's defaults (60 s per request,
        # retried for 300 s), the unbounded wait this class exists to replace.
        self.host, self.workspace_id, self._workspace_client = host, None, workspace_client
        self.timeouts = timeouts
        self.submitted_at: float | None = None
        self.unanswered_since: float | None = None
        self._prefetched = None

    @classmethod
    def bounded_from(cls, client: DatabricksClient, host: str, timeouts: Timeouts) -> "StagingClient":
        config = client.workspace_client.config.copy()
        # Each request gives up after `connect` s without an answer, retries for at most as long again.
        config.http_timeout_seconds = timeouts.connect
        config.retry_timeout_seconds = int(max(1, timeouts.connect))
        return cls(WorkspaceClient(config=config), host, timeouts)

    def read_file(self, dbfs_path: str, block_size: int = 1024**2) -> bytes:
        try:
            if dbfs_path.startswith(VOLUMES):
                return self.workspace_client.files.download(dbfs_path).contents.read()
            return super().read_file(dbfs_path, block_size)
        except _UNANSWERED as exc:
            # Not an OSError: upstream's event reader retries OSErrors four times with backoff (for a file
            # read while being written), which would add ~40 s per poll against a host that does not answer.
            raise Unanswered(f"{type(exc).__name__}: {exc}") from exc

    def put_file(self, file_obj, dbfs_path: str, overwrite: bool = False, block_size: int = 1024**2) -> None:
        if dbfs_path.startswith(VOLUMES):
            self.workspace_client.files.upload(dbfs_path, file_obj, overwrite=overwrite)
            return
        super().put_file(file_obj, dbfs_path, overwrite, block_size)

    # ---- polling: the start timeout, and how long the Jobs API may stay unanswered -------------------------
    def get_run_state(self, databricks_run_id: int):
        if self._prefetched and self._prefetched[0] == databricks_run_id:
            state, self._prefetched = self._prefetched[1], None
            return state
        return super().get_run_state(databricks_run_id)

    def poll_run_state(self, logger, start_poll_time: float, databricks_run_id: int, max_wait_time_sec: float,
                       verbose_logs: bool = True) -> bool:
        try:
            # Twice the connect timeout: one request plus the SDK's retries of it, bounded by as long again.
            state = bounded("poll", 2 * self.timeouts.connect, super().get_run_state, databricks_run_id)
        except (*_UNANSWERED, WaitTimedOut) as exc:
            self.unanswered(f"{type(exc).__name__}: {exc}")
            logger.warning(f"Databricks run {databricks_run_id}: no answer from the Jobs API ({exc}); polling again")
            return False
        self.unanswered_since = None
        waited = time.time() - (self.submitted_at or start_poll_time)
        if state.life_cycle_state and state.life_cycle_state.value in _NOT_STARTED and waited > self.timeouts.start:
            raise WaitTimedOut("start", self.timeouts.start, f"still {state.life_cycle_state.value}: "
                               f"{state.state_message or 'no state message'}")
        self._prefetched = (databricks_run_id, state)
        return super().poll_run_state(logger, start_poll_time, databricks_run_id, max_wait_time_sec, verbose_logs)

    def unanswered(self, detail: str) -> None:
        """Note a poll the API did not answer; WaitTimedOut once it has not answered for `poll` seconds."""
        now = time.time()
        self.unanswered_since = self.unanswered_since or now
        if now - self.unanswered_since > self.timeouts.poll:
            raise WaitTimedOut("poll", self.timeouts.poll, detail)


# What to check when a wait runs out, per phase.
_CHECKS = {
    "connect": "that DATABRICKS_HOST is the workspace URL, and that this host reaches it (DNS, proxy, firewall; "
               "`curl -sI $DATABRICKS_HOST` from the Dagster host)",
    "upload": "the network between this host and the workspace, and that the token's principal may WRITE VOLUME on "
              "the staging volume (deploy/README.md)",
    "start": "the run's page and the cluster's event log: capacity or quota for the node type, the cluster policy, "
             "a library that does not install",
    "poll": "the workspace's status and this host's network; the Databricks run may still be going: open its page",
}
_VARS = {p: f"FORECAST_DATABRICKS_{p.upper()}_TIMEOUT" for p in _CHECKS}
_WHAT = {"connect": "reach the workspace", "upload": "upload the step's files",
         "start": "start the run's cluster", "poll": "get an answer while polling the run"}


class ForecastStepLauncher(DatabricksPySparkStepLauncher):
    def __init__(self, spec_file: str, packages: Sequence[str | Path], timeouts: Timeouts | None = None, **config):
        with warnings.catch_warnings():
            # The issue asks for this launcher by name; Dagster's advice to prefer Pipes is only noise here.
            warnings.simplefilter("ignore", dg.SupersessionWarning)
            super().__init__(**config)
        self.spec_file = spec_file
        self.packages = [Path(p) for p in packages]
        self.timeouts = timeouts or Timeouts()
        self.databricks_runner._client = StagingClient.bounded_from(
            self.databricks_runner.client, self.databricks_host, self.timeouts)
        self._run_urls: dict[tuple[str, str], str] = {}
        self._events: dict[tuple[str, str], list] = {}

    # ---- what is shipped, and the bounded waits around it ------------------------------------------------
    def launch_step(self, step_context):
        step_key = step_context.step.key
        step_context.log.info(f"Databricks: checking that {self.databricks_host} answers, for step {step_key}")
        try:
            client = self.databricks_runner.client
            try:
                bounded("connect", self.timeouts.connect, client.workspace_client.current_user.me)
            except _UNANSWERED as exc:
                raise WaitTimedOut("connect", self.timeouts.connect, f"{type(exc).__name__}") from exc
            with tempfile.TemporaryDirectory(prefix="forecast-assets-code-") as root:
                self.local_dagster_job_package_path = stage_packages(root, self.packages)
                yield from super().launch_step(step_context)
        except Exception as exc:
            timed_out = _timed_out(exc)
            if timed_out is None:
                raise
            raise self.timeout_failure(timed_out, step_key) from exc

    def _upload_artifacts(self, log, step_run_ref, run_id: str, step_key: str) -> None:
        try:
            bounded("upload", self.timeouts.upload, super()._upload_artifacts, log, step_run_ref, run_id, step_key)
        except _UNANSWERED as exc:
            raise WaitTimedOut("upload", self.timeouts.upload, f"{type(exc).__name__}") from exc
        self.databricks_runner.client.submitted_at = time.time()

    def log_compute_logs(self, log, run_id: str, step_key: str) -> None:
        if self.databricks_runner.client.unanswered_since is not None:
            # The workspace stopped answering: two more reads would only add their timeouts to the failure.
            log.warning(f"not reading the step's stdout/stderr from {self.databricks_host}: it does not answer")
            return
        super().log_compute_logs(log, run_id, step_key)

    def timeout_failure(self, exc: WaitTimedOut, step_key: str) -> dg.Failure:
        """The step's failure for a wait that ran out: host, step, what to check; never the token."""
        cancelled = {"start": " (the Databricks run was cancelled)",
                     "poll": " (the launcher tried to cancel the Databricks run; it may still be going)"}.get(exc.phase, "")
        description = (f"Databricks did not answer in time: could not {_WHAT[exc.phase]} within {exc.seconds:g} s "
                       f"for step {step_key} on {self.databricks_host}{cancelled}.\ncheck: {_CHECKS[exc.phase]}; "
                       f"the limit is {_VARS[exc.phase]}")
        metadata = {"cause": f"databricks {exc.phase} timeout", "host": self.databricks_host, "step": step_key,
                    "timeout_seconds": float(exc.seconds), "setting": _VARS[exc.phase], "hint": _CHECKS[exc.phase]}
        if exc.detail:
            description += f"\n({exc.detail})"
            metadata["detail"] = exc.detail
        return dg.Failure(description=description, metadata=metadata)

    # ---- the job's main script: check the cluster, then upstream's ---------------------------------------
    def _main_file_local_path(self) -> str:
        return databricks_step_entry.__file__

    def _get_databricks_task(self, run_id: str, step_key: str):
        task = super()._get_databricks_task(run_id, step_key)
        python = f"{sys.version_info[0]}.{sys.version_info[1]}"
        task["spark_python_task"]["parameters"] = [
            *task["spark_python_task"]["parameters"], f"{databricks_step_entry.PYTHON_ARG}{python}",
            f"{databricks_step_entry.PINS_ARG}{json.dumps(host_versions(), separators=(',', ':'))}"]
        return task

    # ---- staging on a UC volume: the same path on both sides -------------------------------------------
    def _dbfs_path(self, run_id: str, step_key: str, filename: str) -> str:
        path = super()._dbfs_path(run_id, step_key, filename)
        return path.removeprefix("dbfs://") if self.staging_prefix.startswith(VOLUMES) else path

    def _internal_dbfs_path(self, run_id: str, step_key: str, filename: str) -> str:
        path = super()._internal_dbfs_path(run_id, step_key, filename)
        return path.removeprefix("/dbfs/") if self.staging_prefix.startswith(VOLUMES) else path

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
        try:
            events = super().get_step_events(run_id, step_key, retry_number)
        except NotFound:  # the Files API's answer before the step has written its first events
            events = []
        except Unanswered as exc:
            # Unanswered like the poll it follows: what was read before stands, up to the poll timeout.
            self.databricks_runner.client.unanswered(str(exc))
            return self._events.get((run_id, step_key), [])
        url = self._run_urls.get((run_id, step_key))
        events = [with_run_url(e, url) for e in events] if url else events
        self._events[(run_id, step_key)] = events
        return events

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
        """What the cluster said: the step's stderr file in staging (written by the launcher's main script once
        it started) and the task run's error output (also when the script failed on its own imports)."""
        parts = []
        try:
            parts.append(self.databricks_runner.client.read_file(
                self._dbfs_path(step_context.run_id, step_key, "stderr")).decode(errors="replace"))
        except Exception as e:  # noqa: BLE001 - a missing file only means the script never got that far
            step_context.log.debug(f"no stderr file for {step_key} in staging: {e}")
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


def host_versions() -> dict[str, str]:
    """This host's versions of the libraries the clusters install (cluster_libraries.PINS), for the remote check."""
    out = {}
    for name in cluster_libraries.PINS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # not on this host: nothing to compare the cluster's with
            continue
    return out


def _timed_out(exc: BaseException | None) -> WaitTimedOut | None:
    """The WaitTimedOut behind exc: itself, or one in its chain (upstream's cancel after it may raise too)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, WaitTimedOut):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _error_line(text: str) -> str | None:
    """The remote error: the root of a traceback's chain (printed first) that is a known failure, else the last."""
    found = [m[0].strip() for m in _ERROR_LINE.findall(text or "")]
    return next((line for line in found if explain(line)), found[-1] if found else None)


def forecast_step_launcher(spec_file: str, packages: Sequence[str | Path],
                           timeouts: Timeouts | None = None) -> dg.ResourceDefinition:
    """A step launcher resource taking databricks_pyspark_step_launcher's config."""
    return dg.ResourceDefinition(
        resource_fn=lambda context: ForecastStepLauncher(spec_file, packages, timeouts, **context.resource_config),
        config_schema=databricks_pyspark_step_launcher.config_schema,
        description=f"Runs the step on Databricks (cluster spec {spec_file}), shipping only the project's package.",
    )
