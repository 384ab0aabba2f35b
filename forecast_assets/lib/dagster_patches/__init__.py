"""The two places where this project replaces a Dagster internal, installed together by install().

Both make Dagster faster and must not change what it does:
  - event_log: batched writes of asset events to Dagster's SQLite event log;
  - partition_lookup: day -> semiannual-window lookups answered from a list of windows.
Each reaches into Dagster's private API, so each was written and checked against one Dagster
version: the tests in forecast_assets_tests/lib/ compare them with Dagster's own methods.
install() refuses any Dagster version not in SUPPORTED_DAGSTER_VERSIONS, naming the patches and
what to do, before importing anything private. The code location (definitions.py) and the instance
class that dagster.yaml names (lib/dagster_instance.py: webserver, daemon) call it;
importing a module of this package patches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster

# Dagster versions the equivalence tests passed on. To support another one: run
# `pytest forecast_assets_tests/lib/` with it installed and, if they pass, add it here.
SUPPORTED_DAGSTER_VERSIONS: tuple[str, ...] = ("1.13.27",)

PATCHES = {
    "forecast_assets.lib.dagster_patches.event_log":
        "SqliteEventLogStorage.store_event_batch: a batch's asset events in one transaction",
    "forecast_assets.lib.dagster_patches.partition_lookup":
        "TimeWindowPartitionsDefinition.get_partition_key_for_timestamp and _iterate_time_windows: "
        "semiannual windows from a list",
}


class UnsupportedDagsterVersion(RuntimeError):
    """Dagster is at a version the patches were not tested with."""


def check_version(version: str | None = None) -> None:
    """Raise UnsupportedDagsterVersion unless `version` (default: the installed Dagster's) is supported."""
    version = dagster.__version__ if version is None else version
    if version in SUPPORTED_DAGSTER_VERSIONS:
        return
    patches = "\n".join(f"  - {name} ({what})" for name, what in PATCHES.items())
    raise UnsupportedDagsterVersion(
        f"Dagster {version} is installed, but these patches of Dagster internals were tested only with "
        f"Dagster {', '.join(SUPPORTED_DAGSTER_VERSIONS)}:\n{patches}\n"
        f"Run `pytest forecast_assets_tests/lib/` with Dagster {version}; if those equivalence tests pass, "
        f"add {version!r} to SUPPORTED_DAGSTER_VERSIONS in {__name__.replace('.', '/')}/__init__.py. "
        f"If they fail, fix the patch they name first (or install Dagster "
        f"{SUPPORTED_DAGSTER_VERSIONS[-1]}).")


def install(window_crons: Iterable[str] = ()) -> None:
    """Install both patches in this process (idempotent). `window_crons`: the cron schedules whose
    time-window partitions get the fast lookup (others keep Dagster's own)."""
    check_version()
    # Imported only now: on another Dagster version their private imports may not even exist.
    from forecast_assets.lib.dagster_patches import event_log, partition_lookup

    event_log.install()
    for cron in window_crons:
        partition_lookup.install(cron)
