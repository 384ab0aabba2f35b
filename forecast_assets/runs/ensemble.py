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


def training_data(store: ForecastStore, settings: Settings, commodity: str, window: date,
                  members: list[str]) -> tuple[list[date], list[np.ndarray] | None, np.ndarray | None]:
    """The training days of `window` (every member's forecast with every step's actual stored, all of them
    sessions before the window), the members' paths on them and their actuals. The actuals are the stored ones
    (the actuals asset's, its declared dependency), not forecast_scores: scoring comes after the ensemble."""
    first, last = ens.training_range(window)
    h = settings.horizon
    sc = store.member_actuals(commodity, members, settings.model_version, first, last)
    if sc.empty:
        return [], None, None
    sc["forecast_start_date"] = pd.to_datetime(sc["forecast_start_date"])
    per = sc.groupby(["model_name", "forecast_start_date"]).agg(
        n=("day_ahead", "nunique"), last_step=("forecast_date", "max"), vintage=("vintage", "max"))
    per = per[per["n"] == h].reset_index()
    ok = per[ens.trainable(per["forecast_start_date"], per["last_step"], window)]
    counts = ok.groupby("forecast_start_date")["model_name"].nunique()
    days = sorted(counts[counts == len(members)].index)
    if len(days) < ens.MIN_TRAINING_DAYS:
        return [d.date() for d in days], None, None
    paths = []
    with store.one_connection():  # one attach for the members' reads
        reads = {m: store.read_paths(commodity, m, settings.model_version, first, last, max_paths=ens.FIT_PATHS)
                 for m in members}
    for m in members:
        pts, p = reads[m]
        pdays = pd.to_datetime(pts["forecast_start_date"].to_numpy()[::h])
        pvint = pts["vintage"].to_numpy()[::h]
        scored = ok[ok["model_name"] == m].set_index("forecast_start_date")["vintage"]
        # Actuals and paths of the same vintage (both the latest good one; checked, as they are two reads).
        same = {d for d, v in zip(pdays, pvint) if scored.get(d) == v}
        days = [d for d in days if d in same]
        paths.append((dict(zip(pdays, range(len(pdays)))), p))
    if len(days) < ens.MIN_TRAINING_DAYS:
        return [d.date() for d in days], None, None
    member_paths = [p[[pos[d] for d in days]] for pos, p in paths]
    act = (sc[sc["model_name"] == members[0]].pivot(index="forecast_start_date", columns="day_ahead",
                                                    values="actual_close").loc[days].to_numpy())
    return [d.date() for d in days], member_paths, act


def train_weights(store: ForecastStore, settings: Settings, commodity: str, windows: list[date], created_by: str,
                  method: str = ens.DEFAULT_METHOD, log: Log = noop) -> list[WeightsResult]:
    """Learn and write the ensemble's weights of every window (equal weights, said so, without history)."""
    members = list(ens.MEMBERS)
    out = []
    for w in sorted(windows):
        t0 = time.perf_counter()
        days, paths, act = training_data(store, settings, commodity, w, members)
        if paths is None:
            weights = ens.learn(commodity, w, members, days, None, None, method=method)
        else:  # learn_from filters the days again: the rule the leakage property checks is the one used
            last = settings.calendar(commodity).step_dates(days, settings.horizon)[:, -1]
            weights = ens.learn_from(commodity, w, members, days, last, paths, act, method=method)
        store.write_trained_model({
            "commodity": commodity, "model_name": ens.NAME, "model_version": settings.model_version,
            "training_start_date": weights.training_start_date, "training_cutoff_date": weights.training_cutoff_date,
            "fitted_model_json": weights.text, "fitted_model_s3_path": None,
            "created_at": datetime.now(timezone.utc).replace(tzinfo=None), "created_by": created_by,
            "year": weights.training_cutoff_date.year, "month": weights.training_cutoff_date.month,
            "window_start": w, "model_fingerprint": weights.fingerprint,
        })
        r = WeightsResult(w, dict(weights.doc["weights"]), len(days), weights.doc["equal_weights"],
                          time.perf_counter() - t0)
        log(f"ensemble {commodity} window {w} ({method}): "
            + ", ".join(f"{m} {x:.3f}" for m, x in r.weights.items())
            + (f"; {weights.doc['reason']}" if r.equal_weights else f"; from {len(days)} days") + f", {r.seconds:.1f}s")
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
            read = {m: store.read_paths(commodity, m, version, start, end, max_paths=settings.n_paths) for m in members}
        found = {}  # member -> (status by day, paths' position by day, paths, cutoffs by day)
        for m in members:
            st = {pd.Timestamp(r.forecast_start_date).date(): r for r in status_of(m, start, end).itertuples()}
            pts, p = read[m]
            pdays = [pd.Timestamp(d).date() for d in pts["forecast_start_date"].to_numpy()[::h]]
            cut = [pd.Timestamp(d).date() for d in pts["data_cutoff_date"].to_numpy()[::h]]
            found[m] = (st, dict(zip(pdays, range(len(pdays)))), p, dict(zip(pdays, cut)))
        reasons: dict[date, str | None] = {}
        inputs: dict[date, str] = {}
        for d in wdays:
            missing = []
            for m in members:
                st, pos, p, _ = found[m]
                r = st.get(d)
                if r is None or d not in pos or r.all_success != 1 or p.shape[1] < settings.n_paths:
                    missing.append(m if r is None or d not in pos else f"{m} (failed)" if r.all_success != 1
                                   else f"{m} ({p.shape[1]} paths)")
            cuts = {found[m][3].get(d) for m in members if d in found[m][1]}
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
        batch = _batch(commodity, weights, todo, reasons, found, settings, cal, daily)
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


def _batch(commodity: str, weights: ens.Weights, todo: list[date], reasons: dict, found: dict,
           settings: Settings, cal, daily: pd.DataFrame) -> ForecastBatch:
    members, h, n_out = weights.members, settings.horizon, settings.n_paths
    d64 = np.asarray(todo, dtype="datetime64[D]")
    ok = np.array([reasons[d] is None for d in todo])
    prices = np.full((len(todo), n_out, h), np.nan, dtype=np.float32)
    cutoffs = np.full(len(todo), np.datetime64("NaT", "D"), dtype="datetime64[D]")
    for i, d in enumerate(todo):
        c = next((found[m][3][d] for m in members if d in found[m][3]), None)
        if c is not None:
            cutoffs[i] = np.datetime64(c, "D")
    sel = np.flatnonzero(ok)
    if len(sel):
        member_paths = [_rows(found[m][2], [found[m][1][todo[i]] for i in sel])[:, :n_out] for m in members]
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
