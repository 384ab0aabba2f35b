"""The unified_data `valid_rows` check shows in the UI what a run would refuse, in the run's words."""

from __future__ import annotations

import dataclasses

import pytest

from forecast_assets.core.input_rules import InputDataError
from forecast_assets.defs.input import valid_rows
from forecast_assets.defs.resources import ForecastResource

from .conftest import NEXT_WINDOW, run_sql
from .table_cases import HUILA, TABLE_CASES, U


def _check(settings):
    resource = ForecastResource.from_settings(dataclasses.replace(settings, commodities=("Coffee", "Sugar")))
    return valid_rows(forecast=resource)


def test_passes_on_the_clean_table(db):
    r = _check(db[1])
    assert r.passed and r.severity.value == "ERROR"


# One case per kind of rule (test_table tries them all on the read itself).
SAMPLE = ["close_as_text", "close_zero", "date_null", "duplicate_row", "regions_disagree_on_close",
          "gap_of_months_rows_missing", "year_typo_future"]


@pytest.mark.parametrize("case", [c for c in TABLE_CASES if c.id in SAMPLE], ids=lambda c: c.id)
def test_fails_with_the_message_a_run_would_give(case, db):
    store, s = db
    run_sql(s.duckdb_path, case.sql)
    r = _check(s)
    assert not r.passed
    with pytest.raises(InputDataError) as err:
        store.read_unified("Coffee")
    assert r.description == str(err.value)


def test_names_a_commodity_no_run_reads(db):
    _, s = db
    run_sql(s.duckdb_path, [f"INSERT INTO {U} BY NAME SELECT * REPLACE ('Cocoa''; --' AS commodity) FROM {U} "
                            f"WHERE {HUILA}"])
    r = _check(s)
    assert not r.passed and "commodity name \"Cocoa'; --\" is not allowed" in r.description


def test_a_training_run_on_a_bad_table_fails_with_the_rows_named_and_a_hint(db):
    import dagster as dg

    from forecast_assets.definitions import build_definitions

    store, s = db
    run_sql(s.duckdb_path, [f"UPDATE {U} SET close = -1 WHERE {HUILA}"])
    defs = build_definitions(s)
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.get_subset(asset_selection={dg.AssetKey(["trained_models", "naive"])}).execute_in_process(
        partition_key="Coffee|2025-01-01", raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    text = str(failure.step_failure_data.error.cause or failure.step_failure_data.error) + str(
        failure.step_failure_data.error)
    assert "row (2024-07-10, Coffee, Colombia_Huila): column 'close': -1.0 is not a positive price" in text
    assert "bad input" in text and "forecast-assets import" in text
    assert store.read_trained_model("Coffee", "naive", s.model_version, NEXT_WINDOW) is None
