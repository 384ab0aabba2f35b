"""A local stand-in for the slice of the Databricks REST API the dagster-databricks step launcher uses.

Served on 127.0.0.1 (ephemeral port) by a daemon-threaded http.server. DBFS is a temp folder;
`jobs/runs/submit` runs the submitted spark_python_task for real as a local subprocess, with
/dbfs/... and dbfs:/... paths mapped into that folder and `dbutils` / `sc` (globals the
Databricks runtime defines) provided by a tiny runner. Every request is recorded.

Libraries: the local interpreter stands for the runtime, and `not_in_runtime` (import name ->
pip package) lists libraries the runtime lacks: the task cannot import them unless the run's
`libraries` install that package (a meta path hook in the runner makes the import fail as on a
cluster without it). As on Databricks, the output of a run submitted with `tasks` is read per
task run (`runs/get-output` of the parent run is refused).

Unity Catalog volumes: the Files API (`PUT/GET /api/2.0/fs/files/Volumes/...`, raw bytes) on a
folder that the "cluster" also sees at /Volumes/... (paths mapped as for DBFS).

Misbehaving on purpose, for the launcher's bounded waits: `stall_upload_of` (a file name) makes
the Files API stop answering in the middle of that file's upload (half of it read, no reply);
`never_start` keeps every run PENDING (a cluster that does not come up); `silent_after_running`
stops answering anything once a run has been seen RUNNING. `silent_host()` is a host that
accepts connections and never answers at all.

Simplifications: one task per run, no clusters (the cluster spec is only recorded), no
spark (`sc` is None), secrets come from a dict given to the stand-in, no auth beyond checking
the bearer token, no pagination, no permissions/clusters APIs.
"""

import base64
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

TASK_TIMEOUT_SEC = 120
SILENCE_MAX_SEC = 120  # a stand-in that stopped answering holds a request at most this long (then stop())
FAILED_MESSAGE = "Task dagster-task failed with message: Workload failed, see run output for details."

RUNNER = '''\
import builtins, json, os, runpy, sys

class _Secrets:
    def __init__(self, values):
        self._values = values
    def get(self, scope, key):
        try:
            return self._values[f"{scope}/{key}"]
        except KeyError:
            raise RuntimeError(f"Secret does not exist with scope: {scope} and key: {key}") from None

class _DbUtils:
    def __init__(self, values):
        self.secrets = _Secrets(values)

class _NotInstalled:
    """Libraries the cluster lacks: importing them fails as it would there."""
    def __init__(self, names):
        self.names = set(names)
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled(json.loads(os.environ.pop("STANDIN_NOT_INSTALLED", "[]"))))
builtins.dbutils = _DbUtils(json.loads(os.environ.pop("STANDIN_SECRETS", "{}")))
builtins.sc = None  # no Spark context: storage setup (s3/adls2) is not supported here
main = sys.argv[1]
sys.argv = [main] + sys.argv[2:]
runpy.run_path(main, run_name="__main__")
'''


FILES = "/api/2.0/fs/files"


@contextlib.contextmanager
def silent_host():
    """A host that does not answer: a socket listening on 127.0.0.1 that never accepts nor replies (the kernel
    completes the TCP handshake, then nothing comes back). Yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


class ApiError(Exception):
    def __init__(self, status, error_code, message):
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


@dataclass
class Run:
    run_id: int
    task_run_id: int
    spec: dict
    life_cycle_state: str = "PENDING"
    result_state: str | None = None
    state_message: str = ""
    error: str | None = None
    error_trace: str | None = None
    logs: str = ""
    gets: int = 0
    proc: subprocess.Popen | None = None
    cancelled: bool = False
    states_served: list = field(default_factory=list)


class DatabricksStandIn:
    def __init__(self, root, token, secrets=None, python=sys.executable, extra_env=None, not_in_runtime=None,
                 stall_upload_of=None, never_start=False, silent_after_running=False):
        self.root = Path(root)
        self.dbfs_root = self.root / "dbfs"
        self.dbfs_root.mkdir(parents=True, exist_ok=True)
        self.token = token
        self.secrets = dict(secrets or {})
        self.python = python
        self.extra_env = dict(extra_env or {})
        self.not_in_runtime = dict(not_in_runtime or {})
        self.stall_upload_of = stall_upload_of
        self.never_start = never_start
        self.silent_after_running = silent_after_running
        self.silent = threading.Event()     # set: every request from now on gets no answer
        self._stopping = threading.Event()
        self.stalled_bytes: int | None = None  # how much of the stalled upload arrived
        self.silent_since: float | None = None  # when it stopped answering (time.time())
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[tuple[str, str, dict]] = []
        self.runs: dict[int, Run] = {}
        self._handles: dict[int, Path] = {}
        self._next = 1000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        (self.root / "runner.py").write_text(RUNNER)

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _hold(self):
                """No answer: keep the connection open and say nothing until the stand-in stops."""
                standin._stopping.wait(SILENCE_MAX_SEC)
                self.close_connection = True

            def _handle(self, method):
                url = urlparse(self.path)
                if standin.silent.is_set():
                    standin._record(method, url.path, {"unanswered": True})
                    return self._hold()
                length = int(self.headers.get("Content-Length") or 0)
                if url.path.startswith(FILES) and method == "PUT":
                    return self._files_put(url, length)
                raw = self.rfile.read(length) if length else b""
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {}
                standin._record(method, url.path, {**query, **body})
                try:
                    if self.headers.get("Authorization") != f"Bearer {standin.token}":
                        raise ApiError(401, "UNAUTHENTICATED", "Invalid access token.")
                    if url.path.startswith(FILES) and method == "GET":
                        try:
                            data = standin._file(url.path[len(FILES):]).read_bytes()
                        except ApiError as e:  # the Files API's code for a missing file
                            raise ApiError(404, "NOT_FOUND", e.message) from None
                        self.send_response(200)
                        self.send_header("Content-Type", "application/octet-stream")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return
                    status, payload = 200, standin.dispatch(method, url.path, query, body)
                except ApiError as e:
                    status, payload = e.status, {"error_code": e.error_code, "message": e.message}
                except Exception as e:  # a bug in the stand-in: surface it to the client
                    status, payload = 500, {"error_code": "INTERNAL_ERROR",
                                            "message": f"stand-in: {e!r}\n{traceback.format_exc()}"}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _files_put(self, url, length):
                """Files API upload: the body is the file. Stalls half way through stall_upload_of."""
                path = url.path[len(FILES):]
                standin._record("PUT", url.path, {k: v[0] for k, v in parse_qs(url.query).items()})
                if standin.stall_upload_of and path.endswith("/" + standin.stall_upload_of):
                    standin.stalled_bytes = len(self.rfile.read(length // 2))
                    standin.go_silent()
                    return self._hold()
                data = self.rfile.read(length) if length else b""
                status, payload = 200, {}
                if self.headers.get("Authorization") != f"Bearer {standin.token}":
                    status, payload = 401, {"error_code": "UNAUTHENTICATED", "message": "Invalid access token."}
                else:
                    target = standin.local(path)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                out = json.dumps(payload).encode() if status != 200 else b""
                self.send_response(status)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_GET(self):
                self._handle("GET")

            def do_PUT(self):
                self._handle("PUT")

            def do_POST(self):
                self._handle("POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="databricks-standin", daemon=True).start()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def go_silent(self):
        """From now on no request gets an answer."""
        self.silent_since = self.silent_since or time.time()
        self.silent.set()

    def stop(self):
        self._stopping.set()
        for run in list(self.runs.values()):
            if run.proc and run.proc.poll() is None:
                run.proc.kill()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- helpers ---------------------------------------------------------------------------------
    def _record(self, method, path, params):
        with self._lock:
            self.requests.append((method, path))
            self.bodies.append((method, path, params))

    def calls(self):
        """(method, endpoint) with the API version stripped, e.g. ("POST", "jobs/runs/submit")."""
        return [(m, p.split("/", 3)[-1] if p.startswith("/api/") else p) for m, p in self.requests]

    def local(self, path: str) -> Path:
        """dbfs:/x, dbfs:///x, /dbfs/x, /x -> <root>/dbfs/x; /Volumes/x (UC volumes) -> <root>/dbfs/Volumes/x"""
        for prefix in ("dbfs:", "/dbfs/"):
            if path.startswith(prefix):
                path = path[len(prefix):]
        rel = Path(os.path.normpath("/" + path.lstrip("/"))).relative_to("/")
        return self.dbfs_root / rel

    def _file(self, path):
        p = self.local(path)
        if not p.exists():
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"No file or directory exists on path {path}.")
        return p

    # ---- API -------------------------------------------------------------------------------------
    def dispatch(self, method, path, query, body):
        if not path.startswith("/api/2."):
            raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        endpoint = path.split("/", 3)[-1]
        handler = getattr(self, "_" + endpoint.replace("/", "_").replace("-", "_"), None)
        if handler is None:
            raise ApiError(501, "NOT_IMPLEMENTED", f"stand-in does not implement {method} {path}")
        return handler(query if method == "GET" else body)

    # Identity: the launcher's first request, which checks that the workspace answers.
    def _preview_scim_v2_Me(self, q):
        return {"id": "1", "userName": "standin@example.com", "active": True}

    # DBFS
    def _dbfs_mkdirs(self, b):
        self.local(b["path"]).mkdir(parents=True, exist_ok=True)
        return {}

    def _new_file(self, b) -> Path:
        """The local file behind a DBFS create/put, refusing to overwrite unless asked (as DBFS does)."""
        p = self.local(b["path"])
        if p.exists() and not b.get("overwrite"):
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"A file or directory already exists at {b['path']}.")
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def _dbfs_create(self, b):
        p = self._new_file(b)
        p.write_bytes(b"")
        with self._lock:
            self._next += 1
            self._handles[self._next] = p
            return {"handle": self._next}

    def _dbfs_add_block(self, b):
        p = self._handles.get(int(b["handle"]))
        if p is None:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"handle {b['handle']} not found")
        with p.open("ab") as f:
            f.write(base64.b64decode(b.get("data", "")))
        return {}

    def _dbfs_close(self, b):
        if self._handles.pop(int(b["handle"]), None) is None:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"handle {b['handle']} not found")
        return {}

    def _dbfs_put(self, b):
        self._new_file(b).write_bytes(base64.b64decode(b.get("contents", "")))
        return {}

    def _dbfs_get_status(self, q):
        p = self._file(q["path"])
        return {"path": q["path"], "is_dir": p.is_dir(), "file_size": 0 if p.is_dir() else p.stat().st_size,
                "modification_time": int(p.stat().st_mtime * 1000)}

    def _dbfs_list(self, q):
        p = self._file(q["path"])
        base = q["path"].rstrip("/")
        return {"files": [{"path": f"{base}/{c.name}", "is_dir": c.is_dir(),
                           "file_size": 0 if c.is_dir() else c.stat().st_size} for c in sorted(p.iterdir())]}

    def _dbfs_read(self, q):
        p = self._file(q["path"])
        if p.is_dir():
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"{q['path']} is a directory")
        offset, length = int(q.get("offset", 0)), int(q.get("length", 1024 ** 2))
        with p.open("rb") as f:
            f.seek(offset)
            chunk = f.read(length)
        return {"bytes_read": len(chunk), "data": base64.b64encode(chunk).decode()}

    def _dbfs_delete(self, b):
        p = self.local(b["path"])
        if p.is_dir():
            import shutil
            shutil.rmtree(p) if b.get("recursive") else p.rmdir()
        elif p.exists():
            p.unlink()
        return {}

    # Jobs
    def _jobs_runs_submit(self, b):
        tasks = b.get("tasks") or []
        if len(tasks) != 1 or "spark_python_task" not in tasks[0]:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "stand-in runs exactly one spark_python_task")
        with self._lock:
            self._next += 2
            run = self.runs[self._next - 1] = Run(self._next - 1, self._next, b)
        threading.Thread(target=self._execute, args=(run,), daemon=True).start()
        return {"run_id": run.run_id}

    def _execute(self, run: Run):
        # Stay PENDING ("cluster starting") until the launcher has seen it once (at most 5 s), or for good.
        deadline = time.time() + (TASK_TIMEOUT_SEC if self.never_start else 5)
        while (run.gets == 0 or self.never_start) and time.time() < deadline and not run.cancelled:
            time.sleep(0.05)
        if run.cancelled:
            run.life_cycle_state, run.result_state, run.state_message = "TERMINATED", "CANCELED", "Run cancelled."
            return
        task = run.spec["tasks"][0]["spark_python_task"]
        main = self.local(task["python_file"])
        args = [str(self.local(a)) if a.startswith(("/dbfs/", "dbfs:", "/Volumes/")) else a
                for a in task.get("parameters", [])]
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "JAVA_HOME", "TMPDIR")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(self.extra_env)
        env["STANDIN_SECRETS"] = json.dumps(self.secrets)
        env["STANDIN_NOT_INSTALLED"] = json.dumps(self.not_installed(run.spec))
        log_path = self.root / f"run-{run.run_id}.log"
        run.life_cycle_state = "RUNNING"
        try:
            with log_path.open("wb") as log:
                run.proc = subprocess.Popen([self.python, str(self.root / "runner.py"), str(main), *args],
                                            cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT)
                rc = run.proc.wait(timeout=TASK_TIMEOUT_SEC)
        except subprocess.TimeoutExpired:
            run.proc.kill()
            rc = None
        run.logs = log_path.read_text(errors="replace")
        if run.cancelled:
            run.result_state, run.state_message = "CANCELED", "Run cancelled."
        elif rc == 0:
            run.result_state = "SUCCESS"
        else:
            lines = [ln for ln in run.logs.strip().splitlines() if ln.strip()]
            run.result_state, run.state_message = ("TIMEDOUT", "Run timed out.") if rc is None else ("FAILED", FAILED_MESSAGE)
            run.error = lines[-1] if lines else f"exit code {rc}"
            run.error_trace = run.logs
        run.life_cycle_state = "TERMINATED"

    def not_installed(self, spec) -> list[str]:
        """Import names the run's cluster lacks: not in the runtime, and not installed by its libraries."""
        installed = {re.split(r"[<>=!~\[; ]", lib["pypi"]["package"], maxsplit=1)[0].lower()
                     for task in spec.get("tasks", []) for lib in task.get("libraries", []) if "pypi" in lib}
        return sorted(m for m, pkg in self.not_in_runtime.items() if pkg.lower() not in installed)

    def _run(self, q, task_runs=False):
        run_id = int(q.get("run_id", -1))
        run = self.runs.get(run_id)
        if run is None and task_runs:
            run = next((r for r in self.runs.values() if r.task_run_id == run_id), None)
        if run is None:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Run {q.get('run_id')} does not exist.")
        return run

    def _run_json(self, run: Run):
        state = {"life_cycle_state": run.life_cycle_state, "state_message": run.state_message}
        if run.result_state:
            state["result_state"] = run.result_state
        task = run.spec["tasks"][0]
        return {"run_id": run.run_id, "job_id": 1, "number_in_job": run.run_id, "run_name": run.spec.get("run_name"),
                "run_type": "SUBMIT_RUN", "state": state, "run_page_url": f"{self.url}/#job/1/run/{run.run_id}",
                "tasks": [{"run_id": run.task_run_id, "task_key": task.get("task_key"), "state": state,
                           "spark_python_task": task["spark_python_task"]}]}

    def _jobs_runs_get(self, q):
        run = self._run(q)
        state = run.life_cycle_state  # read once: the answer and the record agree
        body = self._run_json(run)
        body["state"]["life_cycle_state"] = state
        run.states_served.append(state)
        run.gets += 1
        if state == "RUNNING" and self.silent_after_running:
            self.go_silent()
        return body

    def _jobs_runs_get_output(self, q):
        run = self._run(q, task_runs=True)
        if run.run_id == int(q["run_id"]):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "Retrieving the output of runs with multiple tasks is not "
                           "supported. Please retrieve the output of each individual task run instead.")
        out = {"metadata": self._run_json(run), "logs": run.logs[-5000:]}
        if run.error:
            out |= {"error": run.error, "error_trace": run.error_trace}
        return out

    def _jobs_runs_cancel(self, b):
        run = self._run(b)
        run.cancelled = True
        if run.proc and run.proc.poll() is None:
            run.proc.kill()
        return {}
