"""unified_data: an external table we observe, never write from a run.

Its data version is a fingerprint of the table, so automation downstream sees
new data land. A check flags it when no new trading day has arrived for several
sessions (no freshness policy: Dagster judges one by the last materialization, and a
source asset is only observed, so it would never be evaluated; docs/decisions.md);
another check reads every commodity through the rules every run applies (core.input_rules), so rows another loader left that a
run would refuse show in the UI before a run fails on them.
"""

from datetime import date

import dagster as dg
import numpy as np

from forecast_assets.config import ConfigError, check_name
from forecast_assets.core.calendar import Calendar
from forecast_assets.core.input_rules import InputDataError
from forecast_assets.defs.resources import ForecastResource

UNIFIED_KEY = dg.AssetKey("unified_data")
STALE_SESSIONS = 3  # sessions of the commodity's calendar without a new trading day before the check warns


@dg.multi_observable_source_asset(
    specs=[dg.AssetSpec(
        UNIFIED_KEY, group_name="input",  # kinds: the environment's (definitions.py)
        description="commodity.silver.unified_data: daily prices, weather, FX per commodity and region "
                    "(docs/contract.md). Maintained upstream; observed here.",
        automation_condition=dg.AutomationCondition.cron_tick_passed("*/15 * * * *"),
    )],
)
def unified_data(forecast: ForecastResource):
    store = forecast.store()
    summary = store.unified_summary()
    yield dg.ObserveResult(
        asset_key=UNIFIED_KEY,
        data_version=dg.DataVersion(store.unified_version()),
        metadata={
            "commodities": ", ".join(summary["commodity"]) if len(summary) else "(none)",
            "rows": int(summary["n_rows"].sum()) if len(summary) else 0,
            "last_trading_day": str(summary["last_trading_day"].max()) if len(summary) else "",
        },
    )


def sessions_since(cal: Calendar, last: date, today: date) -> int:
    """Sessions strictly between the last trading day and today: an exchange holiday is not a late feed."""
    return int(cal.gap(np.array([last], dtype="datetime64[D]"), np.array([today], dtype="datetime64[D]"))[0])


@dg.asset_check(asset=UNIFIED_KEY, name="new_trading_days", blocking=False,
                automation_condition=dg.AutomationCondition.cron_tick_passed("0 9 * * *"))
def new_trading_days(forecast: ForecastResource) -> dg.AssetCheckResult:
    summary = forecast.store().unified_summary()
    today = date.today()
    settings = forecast.settings
    lags = {r.commodity: sessions_since(settings.calendar(r.commodity),
                                        r.last_trading_day.date() if hasattr(r.last_trading_day, "date")
                                        else r.last_trading_day, today)
            for r in summary.itertuples() if r.last_trading_day is not None}
    stale = {c: n for c, n in lags.items() if n > STALE_SESSIONS}
    return dg.AssetCheckResult(
        passed=bool(lags) and not stale,
        severity=dg.AssetCheckSeverity.WARN,
        description=("no data loaded" if not lags else
                     f"no new trading day for {stale}" if stale else "every commodity has a recent trading day"),
        metadata={f"sessions_behind_{c}": n for c, n in lags.items()},
    )


@dg.asset_check(asset=UNIFIED_KEY, name="valid_rows", blocking=False,
                automation_condition=dg.AutomationCondition.cron_tick_passed("30 * * * *"))
def valid_rows(forecast: ForecastResource) -> dg.AssetCheckResult:
    """Each forecast commodity's rows pass the input rules; no other commodity has a name a run would refuse."""
    store = forecast.store()
    problems: dict[str, str] = {}
    for commodity in forecast.settings.commodities:
        try:
            store.read_unified(commodity)  # the read every run makes, with the same checks
        except InputDataError as exc:
            problems[commodity] = str(exc)
    if not problems:  # the table is readable: other commodities' names too (runs never read them)
        for name in store.unified_summary()["commodity"]:
            try:
                check_name(name, "commodity")
            except ConfigError as exc:
                problems[str(name)] = f"unified_data: {exc}"
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=next(iter(problems.values()), "every commodity's rows pass the input rules"),
        metadata={f"problem_{i}": msg for i, msg in enumerate(problems.values())},
    )
