"""Crash trials (issue 6, item 1): a backfill killed with SIGKILL at random moments, then rerun.

One backfill is two real `dagster asset materialize` runs in one child process,
against a persistent Dagster instance (the project's dagster.yaml: pool
forecast_db, limit 1) and a DuckDB file: trained_models/naive for the windows
2024-07-01 and 2025-01-01, then forecasts/naive (forced: every day recomputed
and rewritten), actuals and forecast_metadata for the days 2024-12-30 to
2025-01-02, two in each window. Fitted models go to artifact files as large
XGBoost models do (the 1 MB limit is lowered to 1 kB in the runs), and the input
alternates between two versions (B revises 2022 closes, so naive trains to a
different model): a run killed after training and before forecasting leaves
days made by the previous model, which the rerun must replace.

Each trial: start the backfill, SIGKILL its process group at a moment drawn
from a seeded RNG over the whole run (startup, training, forecasting and its
writes, actuals, scoring): once its log reaches a random line of a whole run's
log, after a random delay of up to half a second. Then check what the crash left (on a
copy, so that the rerun meets the WAL and lock files as the crash left them),
rerun the backfill without force, and compare every table, column by column,
with a reference run of the same input.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from forecast_assets.storage.duckdb_store import DuckDBStore
from forecast_assets_tests.reliability import runs, tables
from forecast_assets_tests.reliability.inputs import revised

pytestmark = pytest.mark.crash

SEED = 20260601
KILLS = 20  # trials whose run was really killed
MAX_TRIALS = 30  # a moment drawn after the run ended kills nothing: draw again, within bounds
MAX_DELAY_S = 0.5
RUN_TIMEOUT_S = 240
INLINE_LIMIT = 1_000  # bytes: naive's 16 kB models become artifact files
MODELS = ["naive"]
WINDOWS = "Coffee|2024-07-01...Coffee|2025-01-01"
DAYS = ("2024-12-30", "2025-01-02")
TRAIN = ["--select", "trained_models/naive", "--partition-range", WINDOWS]
FORECAST = ["--select", "forecasts/naive,actuals,forecast_metadata",
            "--partition-range", f"Coffee|{DAYS[0]}...Coffee|{DAYS[1]}"]
FORCE = ["--config-json", json.dumps({"ops": {"forecasts__naive": {"config": {"force": True}}}})]
BACKFILL, FORCED = [TRAIN, FORECAST], [TRAIN, FORECAST + FORCE]


def phase(log: Path) -> str:
    """Where the run was when it died: the last step it started."""
    where = "startup"
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("===") and "dagster asset materialize" in line:
            where = "startup"
        elif "STEP_START" in line:
            where = next(name for key, name in (("trained_models__", "training"), ("forecasts__", "forecasting"),
                                                ("actuals", "actuals"), ("forecast_metadata", "scoring"))
                         if key in line)
        elif line.startswith("===") and line.endswith("all commands done"):
            where = "finished"
    return where


def stray_artifacts(artifact_dir: Path, con) -> list[str]:
    """Model files no row names, and temporaries: what a killed write may leave and a rerun must clear."""
    named = {Path(p).resolve() for (p,) in con.execute(
        "SELECT fitted_model_s3_path FROM commodity.forecast.trained_models WHERE fitted_model_s3_path IS NOT NULL"
    ).fetchall()}
    return sorted(str(f) for f in artifact_dir.rglob("*") if f.is_file() and f.resolve() not in named)


@pytest.fixture(scope="module")
def bed(tmp_path_factory, sample_unified):
    root = runs.scratch_root(tmp_path_factory.getbasetemp())
    env = runs.run_env(root)
    store = DuckDBStore(env["FORECAST_DUCKDB_PATH"])
    store.ensure_schema()
    yield {"root": root, "db": Path(env["FORECAST_DUCKDB_PATH"]), "ref": root / "reference.duckdb", "env": env,
           "store": store, "artifacts": Path(env["FORECAST_ARTIFACT_DIR"]),
           "logs": tmp_path_factory.mktemp("crash-logs"),
           "inputs": {"A": sample_unified, "B": revised(sample_unified)}}
    shutil.rmtree(root, ignore_errors=True)


def test_sigkill_at_random_moments_then_rerun_leaves_exactly_the_expected_rows(bed):
    rng = random.Random(SEED)
    db, ref, env, store, logs = bed["db"], bed["ref"], bed["env"], bed["store"], bed["logs"]

    # References: one whole run per input version.
    for v in ("A", "B"):
        store.replace_unified(bed["inputs"][v])
        runs.run(FORCED, env, logs / f"reference-{v}.log", RUN_TIMEOUT_S, INLINE_LIMIT)
        with tables.attached(db, ref) as con:
            assert tables.incomplete_days(con, MODELS, DAYS, with_actuals=True) == []
            assert tables.not_from_the_window_model(con) == 0
            assert con.execute("SELECT COUNT(*) FROM commodity.forecast.trained_models "
                               "WHERE fitted_model_s3_path IS NULL").fetchone()[0] == 0  # all in files
            tables.snapshot(con, v)
    run_lines = len((logs / "reference-A.log").read_text().splitlines())
    version = "B"

    stats, phases, seconds = Counter(), Counter(), Counter()
    trial = 0
    while stats["kills"] < KILLS:
        assert trial < MAX_TRIALS, f"only {stats['kills']} kills in {MAX_TRIALS} trials"
        trial += 1
        version = "A" if version == "B" else "B"
        store.replace_unified(bed["inputs"][version])
        log = logs / f"trial-{trial:02d}.log"
        at, delay = rng.randrange(run_lines), rng.uniform(0.0, MAX_DELAY_S)
        p = runs.start(FORCED, env, log, INLINE_LIMIT)
        t0 = time.monotonic()
        killed = runs.kill_at(p, log, at, delay)
        seconds["killed_run"] += time.monotonic() - t0
        where = phase(log)
        if killed:
            stats["kills"] += 1
            phases[where] += 1
        else:  # it ended first: nothing was killed
            assert p.exitcode == 0, runs.tail(log)
            stats["ran_to_the_end"] += 1
        context = f"trial {trial}, input {version}, killed at log line {at} + {delay:.2f} s, during {where}; log {log}"

        # What the crash left, inspected on a copy: the rerun must meet the files as the crash left them.
        t0 = time.monotonic()
        crashed = bed["root"] / "crashed"
        shutil.rmtree(crashed, ignore_errors=True)
        crashed.mkdir()
        for f in db.parent.glob(db.name + "*"):
            shutil.copy(f, crashed / f.name)
        stats["wal_left_by_the_crash"] += (crashed / (db.name + ".wal")).exists()
        with tables.attached(crashed / db.name, ref) as con:
            assert tables.duplicated_keys(con) == dict.fromkeys(tables.KEYS, 0), context
            assert tables.incomplete_days(con, MODELS, DAYS, with_actuals=True) == [], context
            assert tables.rows_outside(con, DAYS) == 0, context
            assert tables.mixed_windows(con) == 0, context
            assert tables.foreign_rows(con, ["A", "B"]) == dict.fromkeys(tables.KEYS, 0), context
            assert tables.model_artifact_problems(con) == [], context
            stale = tables.not_from_the_window_model(con)  # days the crash left from the previous model
            stats["trials_leaving_days_of_the_previous_model"] += stale > 0
            stats["stray_artifact_files_after_crash"] += len(stray_artifacts(bed["artifacts"], con))
        seconds["checks"] += time.monotonic() - t0

        t0 = time.monotonic()
        runs.run(BACKFILL, env, logs / f"trial-{trial:02d}-rerun.log", RUN_TIMEOUT_S, INLINE_LIMIT)
        seconds["rerun"] += time.monotonic() - t0
        t0 = time.monotonic()
        with tables.attached(db, ref) as con:
            d = tables.diff(con, version)
            lost, extra = sum(x for x, _ in d.values()), sum(y for _, y in d.values())
            stats["rows_checked"] += tables.count_rows(con)
            stats["rows_lost"] += lost
            stats["rows_extra"] += extra
            assert (lost, extra) == (0, 0), f"{context}: (lost, extra) rows per table {d}"
            assert tables.not_from_the_window_model(con) == 0, context
            assert tables.model_artifact_problems(con) == [], context
            assert stray_artifacts(bed["artifacts"], con) == [], context
        seconds["checks"] += time.monotonic() - t0

    # The Dagster instance: killed runs were marked failed by the runs after them, no pool slot is held.
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as instance:
        assert instance.event_log_storage.get_concurrency_info("forecast_db").claimed_slots == []
        runs_by_status = Counter(r.status.value for r in instance.get_runs())
        marked = [r for r in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))]
        assert all("died without finishing" in (instance.get_records_for_run(
            r.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records[-1].event_log_entry.dagster_event.message)
            for r in marked)
    stats["killed_runs_marked_failed"] = len(marked)
    # A kill between a run's start and its executor (a few ms) leaves it STARTED with no slot and no lock:
    # nothing waits for it, but the UI lists it as started.
    stats["runs_left_started"] = runs_by_status.get("STARTED", 0)

    summary = {"trials": trial, **stats, "kills_by_phase": dict(phases),
               "seconds": {k: round(v) for k, v in seconds.items()}}
    print(f"crash trials: {json.dumps(summary)}")
    assert stats["rows_lost"] == stats["rows_extra"] == 0
