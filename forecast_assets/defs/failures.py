"""Known failures leave a step as dg.Failure with the cause and a hint in the UI.

Causes and hints for bad input, and for what remote runs on Databricks are known for.

The system this replaces printed these after the fact from a polling script;
here a failing step raises with the cause and what to do about it. A hint names
the library to add and, when known, the cluster spec file to add it to.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import dagster as dg

PROJECT_PACKAGE = "forecast_assets"
SPEC_ENV = "FORECAST_DATABRICKS_LAUNCHER_SPEC"  # tells the remote step which spec file it ran with
CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints.txt"
# Import names whose pip package is named otherwise (the rest: "_" becomes "-").
_PIP_NAMES = {"sklearn": "scikit-learn", "yaml": "PyYAML", "databricks": "databricks-sql-connector",
              "xgboost": "xgboost-cpu", "dateutil": "python-dateutil"}

_MISSING = re.compile(r"No module named '([\w.]+)'")
_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")

_HINTS: list[tuple[str, re.Pattern, str]] = [
    ("bad input", re.compile(r"\bInputDataError\b"),
     "unified_data breaks an input rule (README, 'Bad input'): fix the rows named in the table, or reload the "
     "commodity with `forecast-assets import`, which checks the same rules and writes nothing when one fails"),
    ("not writable", re.compile(r"\b(DatabaseNotWritableError|ArtifactDirNotWritableError)\b"),
     "the database file or the model artifact folder named above cannot be written (a read-only file or folder, "
     "chattr +i, a read-only mount): make it writable or point FORECAST_DUCKDB_PATH / FORECAST_ARTIFACT_DIR "
     "elsewhere; nothing was written"),
    ("version mismatch", re.compile(r"\bClusterMismatchError\b|does not match the Dagster host"),
     "the cluster's Python or libraries differ from the Dagster host's (the error names both): the launcher "
     "pickles the step, so both sides need the same Python minor version and the pins of constraints.txt; "
     "check spark_version in the cluster spec (an LTS ML runtime with the host's Python), and run "
     "`make cluster-specs` after changing constraints.txt"),
    ("missing library", re.compile(r"(ModuleNotFoundError|ImportError|No module named|cannot import name)"),
     "a package is missing on the cluster: add it to the project's dependencies (pyproject.toml, pinned in "
     "constraints.txt) and run `make cluster-specs`, which writes the clusters' libraries "
     "(forecast_assets/defs/cluster_libraries.py)"),
    ("library install failed", re.compile(r"(Library installation failed|library .{0,80}failed to install)", re.I),
     "the cluster could not install a library of the spec: check its name and version pin against "
     "constraints.txt and the runtime's Python version"),
    ("parameter mismatch", re.compile(r"(unexpected keyword argument|missing \d+ required positional argument|"
                                      r"takes \d+ positional arguments? but)"),
     "the code on the cluster and the code here disagree on a function's parameters: the step launcher ships "
     "the local package; check that the pinned versions in the launcher's libraries match constraints.txt"),
    ("schema drift", re.compile(r"(cannot be resolved|UNRESOLVED_COLUMN|Column '?\w+'? not found|"
                                r"does not have a column named|no such column)", re.I),
     "a table's columns differ from the contract (docs/contract.md): a column was renamed or dropped upstream, or the "
     "table predates a column this version writes; compare DESCRIBE TABLE with storage/schema.py"),
    ("session timeout", re.compile(r"(session.*(expired|closed|timed? ?out)|Invalid SessionHandle|"
                                   r"connection (closed|reset))", re.I),
     "the Databricks SQL session dropped; the backend reconnects and retries each operation — if this still "
     "failed, the warehouse was unreachable for longer than the retries (see FORECAST_DATABRICKS_* settings)"),
]


def pip_requirement(module: str, constraints: Path = CONSTRAINTS) -> str:
    """The pip requirement that provides an import name, pinned as in constraints.txt when listed there."""
    top = module.split(".")[0]
    name = _PIP_NAMES.get(top, top.replace("_", "-"))
    try:
        for line in constraints.read_text().splitlines():
            pkg, sep, version = line.strip().partition("==")
            if sep and pkg.lower() == name.lower():
                return f"{pkg}=={version}"
    except OSError:  # an installed package has no constraints.txt next to it
        pass
    return name


def missing_library(text: str) -> tuple[str, str] | None:
    """(import name, what is wrong) for an import failure in text, or None."""
    if m := _MISSING.search(text):
        return m.group(1).split(".")[0], "is not installed"
    if m := _CANNOT_IMPORT.search(text):
        return m.group(2).split(".")[0], f"has no `{m.group(1)}` (another version than here)"
    return None


def _library_hint(module: str, problem: str, spec_file: str | None) -> str:
    where = f"`libraries` in {spec_file}" if spec_file else "`libraries` in deploy/databricks/*_launcher.yaml"
    if module == PROJECT_PACKAGE:
        return (f"the project's own package is not on the cluster: the step launcher ships `{PROJECT_PACKAGE}` "
                f"in code.zip from the Dagster host (defs/databricks_launcher.py); check the upload in the step's "
                f"log and that the host runs the code location with FORECAST_ENV=databricks")
    req = pip_requirement(module)
    return (f"`{module}` {problem} on the cluster: run `make cluster-specs` (it writes the clusters' libraries, "
            f"forecast_assets/defs/cluster_libraries.py, from pyproject.toml and constraints.txt; add `{req}` there "
            f"first if the project does not list it yet); a spec with its own `libraries` ({where}) needs "
            f"`- pypi: {{package: \"{req}\"}}` added by hand")


def explain(error: BaseException | str, spec_file: str | None = None) -> tuple[str, str] | None:
    """(cause, hint) for a known failure, or None. spec_file: the cluster spec the step ran with."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    for cause, pattern, hint in _HINTS:
        if pattern.search(text):
            if cause == "missing library" and (lib := missing_library(text)):
                return cause, _library_hint(*lib, spec_file)
            if spec_file and cause == "library install failed":
                hint = f"{hint} (the libraries are in {spec_file})"
            return cause, hint
    return None


@contextlib.contextmanager
def explained_failures():
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        # On a cluster the launcher says which spec file it ran with, so hints can name it.
        known = explain(exc, os.environ.get(SPEC_ENV))
        if known is None:
            raise
        cause, hint = known
        raise dg.Failure(description=f"{cause}: {type(exc).__name__}: {exc}\nhint: {hint}",
                         metadata={"cause": cause, "hint": hint, "error": f"{type(exc).__name__}: {exc}"}) from exc
