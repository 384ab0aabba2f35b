"""The ensemble over the storage interface (issue 15): learn a window's weights, combine the members' stored paths.

Weights (trained_models, model_name 'ensemble'): from the members' forecasts of the days before the window
whose actuals are all stored (core.ensemble.training_range, trainable), read with store.member_actuals and
store.read_paths.
Forecasts (forecasts/ensemble): each day's members' latest good paths combined with its window's weights,
written through the same rows and vintages as every model, so actuals, scoring and model_performance
treat it as one more model. A member without a good forecast of a day makes that day a failed row naming it.

A day's input fingerprint is the hash of its members' model and input fingerprints and vintages, and the
model fingerprint is the weights' own: a member recomputed (a new vintage) or new weights make the day
computed again as a new vintage; otherwise it is skipped as complete.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from forecast_assets.config import Settings
from forecast_assets.core import ensemble as ens
from forecast_assets.core.data import daily_series
from forecast_assets.core.forecast import ForecastBatch, realized
from forecast_assets.core.paths import day_seeds, summarize
from forecast_assets.runs.forecasting import ForecastResult
from forecast_assets.runs.loading import PipelineError
from forecast_assets.runs.plan import Log, after_days, by_window, noop, number_vintages
from forecast_assets.storage.base import ForecastStore
from forecast_assets.storage.rows import distribution_rows, point_rows


@dataclass
class WeightsResult:
    window_start: date
    weights: dict[str, float]
    n_train_days: int
    equal_weights: bool
    seconds: float


def training_data(store: ForecastStore, settings: Settings, commodity: str, first: date, last: date,
                  members: list[str]) -> tuple[list[date], np.ndarray, list[np.ndarray] | None, np.ndarray | None]:
    """The days in [first, last] with every member's forecast and every step's actual stored, the stored date
    of each one's last step, the members' first FIT_PATHS paths on them and their actuals; no paths (None)
    when there are fewer than MIN_TRAINING_DAYS such days. Which of them may train a window is the window's
    rule (core.ensemble.trainable), applied by learn_from / learn_from_terms. The actuals are the stored ones
    (the actuals asset's, its declared dependency), not forecast_scores: scoring comes after the ensemble."""
    h = settings.horizon
    none = np.array([], dtype="datetime64[D]")
    sc = store.member_actuals(commodity, members, settings.model_version, first, last)
    if sc.empty:
        return [], none, None, None
    sc["forecast_start_date"] = pd.to_datetime(sc["forecast_start_date"])
    per = sc.groupby(["model_name", "forecast_start_date"]).agg(
        n=("day_ahead", "nunique"), last_step=("forecast_date", "max"), vintage=("vintage", "max"))
    ok = per[per["n"] == h].reset_index()
    counts = ok.groupby("forecast_start_date")["model_name"].nunique()
    days = sorted(counts[counts == len(members)].index)
    paths = []
    if len(days) >= ens.MIN_TRAINING_DAYS:
        with store.one_connection():  # one attach for the members' reads
            reads = {m: store.read_paths(commodity, m, settings.model_version, first, last,
                                         max_paths=ens.FIT_PATHS) for m in members}
        for m in members:
            pts, p = reads[m]
            pdays = pd.to_datetime(pts["forecast_start_date"].to_numpy()[::h])
            pvint = pts["vintage"].to_numpy()[::h]
            scored = ok[ok["model_name"] == m].set_index("forecast_start_date")["vintage"]
            # Actuals and paths of the same vintage (both the latest good one; checked, as they are two reads).
            same = {d for d, v in zip(pdays, pvint) if scored.get(d) == v}
            days = [d for d in days if d in same]
            paths.append((dict(zip(pdays, range(len(pdays)))), p))
    last_step = (ok[ok["model_name"] == members[0]].set_index("forecast_start_date")["last_step"]
                 .reindex(days).to_numpy().astype("datetime64[D]"))
    out = [d.date() for d in days]
    if len(days) < ens.MIN_TRAINING_DAYS:
        return out, last_step, None, None
    member_paths = [p[[pos[d] for d in days]] for pos, p in paths]
    act = (sc[sc["model_name"] == members[0]].pivot(index="forecast_start_date", columns="day_ahead",
                                                    values="actual_close").loc[days].to_numpy())
    return out, last_step, member_paths, act


def train_weights(store: ForecastStore, settings: Settings, commodity: str, windows: list[date], created_by: str,
                  method: str = ens.DEFAULT_METHOD, log: Log = noop) -> list[WeightsResult]:
    """Learn and write the ensemble's weights of every window (equal weights, said so, without history).

    The training days of all the windows are read once (consecutive windows share half of theirs) and, for
    the linear pool, each day's objective terms computed once; each window then keeps the days its rule
    allows (learn_from_terms / learn_from filter them: the rule the leakage property checks is the one used)."""
    members = list(ens.MEMBERS)
    windows = sorted(windows)
    if not windows:
        return []
    t0 = time.perf_counter()
    first, last = ens.training_range(windows[0])[0], ens.training_range(windows[-1])[1]
    days, stored_last, paths, act = training_data(store, settings, commodity, first, last, members)
    # A day's last step as stored and as the calendar says: both must be before a window to train it.
    last_steps = np.maximum(stored_last, settings.calendar(commodity).step_dates(days, settings.horizon)[:, -1]) \
        if days else stored_last
    terms = ens.pool_terms([ens.subsample(p) for p in paths], act) \
        if paths is not None and method == "linear_pool" else None
    shared = time.perf_counter() - t0
    out = []
    for w in windows:
        t0 = time.perf_counter()
        if paths is None:
            weights = ens.learn(commodity, w, members, ens.kept_days(days, last_steps, w), None, None, method=method)
        elif terms is not None:
            weights = ens.learn_from_terms(commodity, w, members, days, last_steps, terms, act)
        else:
            weights = ens.learn_from(commodity, w, members, days, last_steps, paths, act, method=method)
        store.write_trained_model({
            "commodity": commodity, "model_name": ens.NAME, "model_version": settings.model_version,
            "training_start_date": weights.training_start_date, "training_cutoff_date": weights.training_cutoff_date,
            "fitted_model_json": weights.text, "fitted_model_s3_path": None,
            "created_at": datetime.now(timezone.utc).replace(tzinfo=None), "created_by": created_by,
            "year": weights.training_cutoff_date.year, "month": weights.training_cutoff_date.month,
            "window_start": w, "model_fingerprint": weights.fingerprint,
        })
        r = WeightsResult(w, dict(weights.doc["weights"]), weights.doc["n_train_rows"], weights.doc["equal_weights"],
                          time.perf_counter() - t0 + shared / len(windows))
        log(f"ensemble {commodity} window {w} ({method}): "
            + ", ".join(f"{m} {x:.3f}" for m, x in r.weights.items())
            + (f"; {weights.doc['reason']}" if r.equal_weights else f"; from {r.n_train_days} days")
            + f", {r.seconds:.1f}s")
        out.append(r)
    return out


def load_weights(store: ForecastStore, settings: Settings, commodity: str, window: date) -> ens.Weights:
    row = store.read_trained_model(commodity, ens.NAME, settings.model_version, window)
    if row is None:
        raise PipelineError(f"no ensemble weights {settings.model_version} for {commodity} window {window}: "
                            f"materialize trained_models/ensemble partition '{commodity}|{window}' first")
    weights = ens.Weights.from_json(row["fitted_model_json"])
    if row.get("model_fingerprint") and row["model_fingerprint"] != weights.fingerprint:
        raise PipelineError(f"trained_models names ensemble weights {row['model_fingerprint']} for {commodity} "
                            f"window {window} but holds {weights.fingerprint}: materialize it again")
    if weights.training_cutoff_date >= window or weights.doc["window_start"] != str(window):
        raise PipelineError(f"ensemble weights stored for window {window} are those of {weights.doc['window_start']} "
                            f"(learned to {weights.training_cutoff_date})")
    return weights


def _fingerprint(parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def forecast_days(store: ForecastStore, settings: Settings, commodity: str, days: list[date], *,
                  force: bool = False, log: Log = noop) -> ForecastResult:
    """Combine the members' stored paths of every day with its window's weights; one write per window."""
    t0 = time.perf_counter()
    days = sorted(set(days))
    h, version = settings.horizon, settings.model_version
    res = ForecastResult(len(days), 0, 0, 0, 0, 0, 0.0)
    cal = settings.calendar(commodity)
    if not days:
        return res
    with store.one_connection():
        unified = store.read_unified(commodity, start=days[0] - timedelta(days=30),
                                     end=days[-1] + timedelta(days=after_days(h)))
        # Read once for the whole range, the members' and the ensemble's own.
        statuses = {m: store.forecast_status(commodity, m, version, days[0], days[-1]) for m in (*ens.MEMBERS, ens.NAME)}
    daily = daily_series(unified, commodity)

    def status_of(model: str, start: date, end: date) -> pd.DataFrame:
        if model not in statuses:
            statuses[model] = store.forecast_status(commodity, model, version, days[0], days[-1])
        st = statuses[model]
        on = pd.to_datetime(st["forecast_start_date"])
        return st[(on >= pd.Timestamp(start)) & (on <= pd.Timestamp(end))]

    for w, wdays in by_window(days).items():
        start, end = wdays[0], wdays[-1]
        with store.one_connection():  # the window's reads: one attach
            weights = load_weights(store, settings, commodity, w)
            members = weights.members
            # Only the paths the combination takes: none of a member without weight, the first ones of the
            # rest (a linear pool takes ~N paths a day of the members' 3N: issue 17).
            need = dict(zip(members, ens.paths_needed(weights.method, weights.vector, settings.n_paths).tolist()))
            read = {m: store.read_paths(commodity, m, version, start, end, max_paths=need[m])
                    for m in members if need[m]}
        found = {}  # member -> (status by day, paths' position by day or None if not read, paths or None)
        for m in members:
            st = {pd.Timestamp(r.forecast_start_date).date(): r for r in status_of(m, start, end).itertuples()}
            if m in read:
                pts, p = read[m]
                pdays = [pd.Timestamp(d).date() for d in pts["forecast_start_date"].to_numpy()[::h]]
                found[m] = (st, dict(zip(pdays, range(len(pdays)))), p)
            else:
                found[m] = (st, None, None)
        reasons: dict[date, str | None] = {}
        inputs: dict[date, str] = {}
        cutoffs: dict[date, date | None] = {}
        for d in wdays:
            missing = []
            for m in members:
                st, pos, _ = found[m]
                r = st.get(d)
                if r is None or (pos is not None and r.all_success == 1 and d not in pos):
                    missing.append(m)  # never forecast, or its paths are not there to read
                elif r.all_success != 1:
                    missing.append(f"{m} (failed)")
                elif r.n_paths < settings.n_paths:
                    missing.append(f"{m} ({r.n_paths} paths)")
            # The cutoffs of the members with a good forecast of the day: one, or the day fails.
            cuts = {c for m in members if (r := found[m][0].get(d)) is not None and r.all_success == 1
                    and (c := _date(r.data_cutoff_date)) is not None}
            cutoffs[d] = min(cuts) if cuts else None
            reasons[d] = (f"member forecast missing: {', '.join(missing)}; materialize forecasts/"
                          f"{missing[0].split()[0]} for this day first" if missing else
                          f"members disagree on the data cutoff ({', '.join(sorted(map(str, cuts)))}): "
                          f"recompute the stale member" if len(cuts) > 1 else None)
            inputs[d] = _fingerprint([weights.fingerprint, *(
                f"{m}:{found[m][0][d].model_fingerprint}:{found[m][0][d].input_fingerprint}:{found[m][0][d].vintage}"
                if d in found[m][0] else f"{m}:-" for m in members)])
        status = status_of(ens.NAME, start, end)
        done = set()
        if not force and not status.empty:
            for r in status.itertuples():
                d = pd.Timestamp(r.forecast_start_date).date()
                if (r.all_success == 1 and r.n_paths == settings.n_paths and r.n_points == h
                        and r.model_fingerprint == weights.fingerprint and r.input_fingerprint == inputs.get(d)):
                    done.add(d)
        todo = [d for d in wdays if d not in done]
        res.days_skipped += len(wdays) - len(todo)
        if not todo:
            continue
        vintages, had_good = number_vintages(status, todo, inputs, weights.fingerprint, force)
        batch = _batch(commodity, weights, todo, reasons, cutoffs, found, settings, cal, daily)
        dist = distribution_rows(batch, version, vintages=vintages)
        pts = point_rows(batch, version, vintages=vintages)
        store.replace_forecasts(commodity, ens.NAME, version, todo, dist, pts)
        res.days_written += int(batch.ok.sum())
        res.days_failed += int((~batch.ok).sum())
        res.failed_recomputations += sum(1 for d, ok in zip(todo, batch.ok) if not ok and d in had_good)
        res.rows_distributions += dist.num_rows
        res.rows_points += pts.num_rows
        failed = [(d, reasons[d]) for d, ok in zip(todo, batch.ok) if not ok]
        log(f"ensemble {commodity} window {w}: {int(batch.ok.sum())} days combined ({weights.method})"
            + (f", {len(failed)} failed ({failed[0][0]}: {failed[0][1]})" if failed else ""))
    res.seconds = time.perf_counter() - t0
    return res


def _rows(a: np.ndarray, pos: list[int]) -> np.ndarray:
    """a[pos]: a view when the positions are consecutive (a window's days, as read), not a copy of ~100 MB."""
    if len(pos) and all(q - p == 1 for p, q in zip(pos, pos[1:])):
        return a[pos[0]:pos[-1] + 1]
    return a[pos]


def _date(v) -> date | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def _batch(commodity: str, weights: ens.Weights, todo: list[date], reasons: dict, cutoffs: dict, found: dict,
           settings: Settings, cal, daily: pd.DataFrame) -> ForecastBatch:
    members, h, n_out = weights.members, settings.horizon, settings.n_paths
    d64 = np.asarray(todo, dtype="datetime64[D]")
    ok = np.array([reasons[d] is None for d in todo])
    prices = np.full((len(todo), n_out, h), np.nan, dtype=np.float32)
    cutoffs = np.array([np.datetime64(cutoffs[d] or "NaT", "D") for d in todo], dtype="datetime64[D]")
    sel = np.flatnonzero(ok)
    if len(sel):
        member_paths = [None if found[m][2] is None else _rows(found[m][2], [found[m][1][todo[i]] for i in sel])
                        for m in members]
        seeds = day_seeds(settings.seed, commodity, ens.NAME, settings.model_version, [todo[i] for i in sel])
        prices[sel] = ens.combine(weights.method, member_paths, weights.vector, seeds, n_out)
    steps = cal.step_dates(d64, h)
    tcut = np.datetime64(weights.training_cutoff_date, "D")
    has = ~np.isnat(cutoffs)
    return ForecastBatch(
        commodity=commodity, model_name=ens.NAME, days=d64, cutoffs=cutoffs, step_dates=steps, prices=prices,
        ok=ok, reasons=[reasons[d] for d in todo], points=summarize(prices), actuals=realized(daily, steps),
        leakage=(has & (d64 <= cutoffs)) | (tcut >= d64), training_cutoff=weights.training_cutoff_date,
        model_fingerprint=weights.fingerprint)
