"""Causes and hints for known failures: bad input, and what remote runs on Databricks are known for.

The system this replaces printed these after the fact from a polling script;
here a failing step raises with the cause and what to do about it.
"""

from __future__ import annotations

import re

_HINTS: list[tuple[str, re.Pattern, str]] = [
    ("bad input", re.compile(r"\bInputDataError\b"),
     "unified_data breaks an input rule (README, 'Bad input'): fix the rows named in the table, or reload the "
     "commodity with `forecast-assets import`, which checks the same rules and writes nothing when one fails"),
    ("missing library", re.compile(r"(ModuleNotFoundError|ImportError|No module named|cannot import name)"),
     "a package is missing on the cluster: add it to `libraries` in deploy/databricks/*_launcher.yaml "
     "(the cluster installs them at start), or use an ML runtime that ships it"),
    ("parameter mismatch", re.compile(r"(unexpected keyword argument|missing \d+ required positional argument|"
                                      r"takes \d+ positional arguments? but)"),
     "the code on the cluster and the code here disagree on a function's parameters: the step launcher ships "
     "the local package; check that the pinned versions in the launcher's libraries match constraints.txt"),
    ("schema drift", re.compile(r"(cannot be resolved|UNRESOLVED_COLUMN|Column '?\w+'? not found|"
                                r"does not have a column named|no such column)", re.I),
     "a table's columns differ from the contract (contracts.md): a column was renamed or dropped upstream, or the "
     "table predates a column this version writes; compare DESCRIBE TABLE with storage/schema.py"),
    ("session timeout", re.compile(r"(session.*(expired|closed|timed? ?out)|Invalid SessionHandle|"
                                   r"connection (closed|reset))", re.I),
     "the Databricks SQL session dropped; the backend reconnects and retries each operation — if this still "
     "failed, the warehouse was unreachable for longer than the retries (see FORECAST_DATABRICKS_* settings)"),
]


def explain(error: BaseException | str) -> tuple[str, str] | None:
    """(cause, hint) for a known failure, or None."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    for cause, pattern, hint in _HINTS:
        if pattern.search(text):
            return cause, hint
    return None
