"""Every bad unified_data table is refused where the pipeline reads it, with the problem named, and nothing is written.

The rows are put in place with plain SQL, as another loader would; then each
operation that reads them (see table_cases) must raise, and every table and
artifact must be exactly as before.
"""

from __future__ import annotations

import re

import pytest

from forecast_assets.core.calendar import ICE_SOFTS, Calendar
from forecast_assets.runs import actuals, forecasting, loading, scoring, training
from forecast_assets.core.input_rules import InputDataError

from .conftest import DAYS, NEXT_WINDOW, dump, run_sql
from .table_cases import TABLE_CASES

OPS = {
    "read": lambda store, s: store.read_unified("Coffee"),
    "train": lambda store, s: training.train_windows(store, s, "naive", "Coffee", [NEXT_WINDOW], "test"),
    "forecast": lambda store, s: forecasting.forecast_days(store, s, "naive", "Coffee", DAYS, force=True),
    "actuals": lambda store, s: actuals.attach_actuals(store, "Coffee", DAYS, Calendar(ICE_SOFTS)),
    "score": lambda store, s: scoring.score_days(store, "Coffee", DAYS),
}


def test_the_corpus_is_large_and_ids_are_unique():
    ids = [c.id for c in TABLE_CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 25
    assert all(set(c.ops) <= set(OPS) and c.ops for c in TABLE_CASES)


def test_the_clean_database_passes_every_operation(db, tmp_path):
    store, s = db
    for op in OPS.values():
        op(store, s)


@pytest.mark.parametrize("case", TABLE_CASES, ids=[c.id for c in TABLE_CASES])
def test_table_is_refused_where_it_is_read_and_nothing_is_written(case, db, tmp_path):
    store, s = db
    run_sql(s.duckdb_path, case.sql)
    before = dump(s, tmp_path / "before")
    for name in case.ops:
        with pytest.raises((InputDataError, loading.PipelineError)) as err:
            OPS[name](store, s)
        msg = str(err.value)
        for p in case.patterns:
            assert re.search(p, msg), f"{name}: {p!r} not in {msg!r}"
    assert dump(s, tmp_path / "after") == before
