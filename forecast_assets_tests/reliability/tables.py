"""What the forecast tables must hold: no duplicate keys, whole days, the model of each day's window.

Shared by the crash and concurrency tests. Queries run on a connection that
has the database attached as catalog `commodity`, and references (expected
rows) in a second file attached as `ref`.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import duckdb

from forecast_assets.storage.schema import CATALOG, columns, qualified
from forecast_assets.storage.sql import scored_as_filter

N_PATHS, HORIZON = 2000, 14

# Keys of the stored rows: a forecast (and its scores) is one per vintage (issue 13).
KEYS = {
    "trained_models": ["commodity", "model_name", "model_version", "window_start"],
    "distributions": ["commodity", "model_name", "model_version", "forecast_start_date", "vintage", "path_id"],
    "point_forecasts": ["commodity", "model_name", "model_version", "forecast_start_date", "vintage", "day_ahead"],
    "forecast_metadata": ["commodity", "model_name", "model_version", "forecast_start_date", "vintage"],
    "forecast_scores": ["commodity", "model_name", "model_version", "forecast_start_date", "vintage", "day_ahead"],
}
# Every column but the wall-clock ones and the vintage's number and reason (a forced rerun appends one):
# reruns must reproduce the rest of what a reader gets bit for bit.
VOLATILE = {"created_at", "created_by", "generation_timestamp", "evaluated_at", "vintage", "vintage_reason"}
COMPARED = {t: [c for c in columns(t, HORIZON) if c not in VOLATILE] for t in KEYS}
WINDOW_OF = ("CASE WHEN month({d}) < 7 THEN make_date(year({d}), 1, 1) "
             "ELSE make_date(year({d}), 7, 1) END")


def _src(t: str) -> str:
    """What a reader gets of table t: each day's latest vintage (views), its latest scored vintage."""
    if t in ("distributions", "point_forecasts"):
        return f"{qualified(t)}_latest"
    if t in ("forecast_metadata", "forecast_scores"):
        return f"(SELECT * FROM {qualified(t)} WHERE {scored_as_filter(t, CATALOG, 'latest')})"
    return qualified(t)


@contextlib.contextmanager
def attached(db: Path, ref: Path | None = None):
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH ? AS {CATALOG}", [str(db)])
        if ref is not None:
            con.execute("ATTACH ? AS ref", [str(ref)])
        yield con
    finally:
        con.close()


def _one(con, sql: str, params=()) -> int:
    return int(con.execute(sql, list(params)).fetchone()[0] or 0)


def duplicated_keys(con) -> dict[str, int]:
    out = {}
    for t, key in KEYS.items():
        out[t] = _one(con, f"SELECT COUNT(*) FROM (SELECT {', '.join(key)} FROM {qualified(t)} "
                           f"GROUP BY ALL HAVING COUNT(*) > 1)")
    return out


def incomplete_days(con, models: list[str], days: tuple[str, str], with_actuals: bool) -> list[tuple]:
    """(model, day, what is wrong) for every asked day that is not exactly one whole forecast.

    Whole: paths 1..2000 once each (+ the path-0 row when actuals are known), 14 point rows
    (steps 1..14), one metadata row and 14 score rows, every row of the day from one trained model.
    """
    dist, pts = _src("distributions"), _src("point_forecasts")
    meta, scores = _src("forecast_metadata"), _src("forecast_scores")
    n0 = "= 1" if with_actuals else "<= 1"
    sql = f"""
        WITH asked AS (
            SELECT m.model_name, CAST(d AS DATE) AS day
            FROM UNNEST(?) AS m(model_name), generate_series(CAST(? AS DATE), CAST(? AS DATE), INTERVAL 1 DAY) g(d)
        ), d AS (
            SELECT model_name, forecast_start_date AS day,
                   COUNT(*) FILTER (WHERE path_id > 0) AS n, COUNT(DISTINCT path_id) FILTER (WHERE path_id > 0) AS nd,
                   MIN(path_id) FILTER (WHERE path_id > 0) AS lo, MAX(path_id) AS hi,
                   COUNT(*) FILTER (WHERE path_id = 0) AS n0,
                   COUNT(DISTINCT model_fingerprint) AS nfp, MIN(model_fingerprint) AS fp,
                   COUNT(DISTINCT training_cutoff_date) AS ntc
            FROM {dist} GROUP BY ALL
        ), p AS (
            SELECT model_name, forecast_start_date AS day, COUNT(*) AS n, COUNT(DISTINCT day_ahead) AS nd,
                   MIN(day_ahead) AS lo, MAX(day_ahead) AS hi, COUNT(DISTINCT model_fingerprint) AS nfp,
                   MIN(model_fingerprint) AS fp
            FROM {pts} GROUP BY ALL
        ), m AS (
            SELECT model_name, forecast_start_date AS day, COUNT(*) AS n FROM {meta} GROUP BY ALL
        ), s AS (
            SELECT model_name, forecast_start_date AS day, COUNT(*) AS n, COUNT(DISTINCT day_ahead) AS nd
            FROM {scores} GROUP BY ALL
        )
        SELECT a.model_name, a.day,
               format('paths {{}} (distinct {{}}, ids {{}}..{{}}), path0 rows {{}}, points {{}} (distinct {{}}), '
                      'fingerprints {{}}/{{}}, metadata {{}}, scores {{}}',
                      d.n, d.nd, d.lo, d.hi, d.n0, p.n, p.nd, d.nfp, p.nfp, m.n, s.n) AS what
        FROM asked a
        LEFT JOIN d ON d.model_name = a.model_name AND d.day = a.day
        LEFT JOIN p ON p.model_name = a.model_name AND p.day = a.day
        LEFT JOIN m ON m.model_name = a.model_name AND m.day = a.day
        LEFT JOIN s ON s.model_name = a.model_name AND s.day = a.day
        WHERE NOT COALESCE(
            d.n = {N_PATHS} AND d.nd = {N_PATHS} AND d.lo = 1 AND d.hi = {N_PATHS} AND d.n0 {n0}
            AND d.nfp = 1 AND d.ntc = 1 AND p.n = {HORIZON} AND p.nd = {HORIZON} AND p.lo = 1
            AND p.hi = {HORIZON} AND p.nfp = 1 AND d.fp = p.fp AND m.n = 1 AND s.n = {HORIZON}
            AND s.nd = {HORIZON}, FALSE)
        ORDER BY ALL
    """
    return con.execute(sql, [models, days[0], days[1]]).fetchall()


def rows_outside(con, days: tuple[str, str]) -> int:
    """Forecast rows for days nobody asked for."""
    return sum(_one(con, f"SELECT COUNT(*) FROM {_src(t)} WHERE forecast_start_date NOT BETWEEN ? AND ?", days)
               for t in ("distributions", "point_forecasts", "forecast_metadata", "forecast_scores"))


def mixed_windows(con) -> int:
    """(model, window) pairs whose stored days came from more than one trained model.

    A window's days are written in one transaction: a crash may leave a window old or new, never both.
    """
    w = WINDOW_OF.format(d="forecast_start_date")
    return _one(con, f"SELECT COUNT(*) FROM (SELECT model_name, {w} FROM {_src('point_forecasts')} "
                     f"GROUP BY ALL HAVING COUNT(DISTINCT model_fingerprint) > 1)")


def not_from_the_window_model(con) -> int:
    """Forecast rows whose model is not the trained model stored for their day's window (or no model is)."""
    w = WINDOW_OF.format(d="x.forecast_start_date")
    n = 0
    for t in ("distributions", "point_forecasts"):
        n += _one(con, f"""
            SELECT COUNT(*) FROM {_src(t)} x
            LEFT JOIN {qualified('trained_models')} m
              ON m.commodity = x.commodity AND m.model_name = x.model_name AND m.model_version = x.model_version
             AND m.window_start = {w}
            WHERE m.model_fingerprint IS DISTINCT FROM x.model_fingerprint
               OR m.training_cutoff_date IS DISTINCT FROM x.training_cutoff_date""")
    return n


def model_artifact_problems(con) -> list[str]:
    """Trained-model rows whose fitted model (inline or file) is missing or is not the model the row names."""
    out = []
    rows = con.execute(f"SELECT model_name, window_start, fitted_model_json, fitted_model_s3_path, model_fingerprint, "
                       f"training_cutoff_date FROM {qualified('trained_models')}").fetchall()
    for name, window, inline, path, fp, cutoff in rows:
        if cutoff >= window:
            out.append(f"{name} {window}: training_cutoff_date {cutoff} is not before the window")
        if inline is not None:
            text = inline
        else:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, TypeError) as exc:
                out.append(f"{name} {window}: artifact {path!r} unreadable: {exc}")
                continue
        got = hashlib.sha256(text.encode()).hexdigest()[:16]
        if got != fp:
            out.append(f"{name} {window}: row says model {fp}, its fitted model is {got} ({path or 'inline'})")
    return out


def snapshot(con, tag: str) -> int:
    """Copy the compared columns of every table into ref.<table>_<tag>; returns the rows copied."""
    n = 0
    for t, cols in COMPARED.items():
        con.execute(f"CREATE OR REPLACE TABLE ref.{t}_{tag} AS SELECT {', '.join(cols)} FROM {_src(t)}")
        n += _one(con, f"SELECT COUNT(*) FROM ref.{t}_{tag}")
    return n


def diff(con, tag: str) -> dict[str, tuple[int, int]]:
    """Per table (rows of the reference missing here, rows here beyond the reference), as multisets."""
    out = {}
    for t, cols in COMPARED.items():
        c = ", ".join(cols)
        here, there = f"SELECT {c} FROM {_src(t)}", f"SELECT {c} FROM ref.{t}_{tag}"
        out[t] = (_one(con, f"SELECT COUNT(*) FROM ({there} EXCEPT ALL {here})"),
                  _one(con, f"SELECT COUNT(*) FROM ({here} EXCEPT ALL {there})"))
    return out


def foreign_rows(con, tags: list[str]) -> dict[str, int]:
    """Rows here that are in none of the references (a torn or mixed write would be)."""
    out = {}
    for t, cols in COMPARED.items():
        c = ", ".join(cols)
        known = " UNION ALL ".join(f"SELECT {c} FROM ref.{t}_{tag}" for tag in tags)
        out[t] = _one(con, f"SELECT COUNT(*) FROM (SELECT {c} FROM {_src(t)} EXCEPT ({known}))")
    return out


def count_rows(con) -> int:
    return sum(_one(con, f"SELECT COUNT(*) FROM {_src(t)}") for t in KEYS)
