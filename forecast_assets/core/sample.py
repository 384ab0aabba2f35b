"""A SYNTHETIC unified_data table, for demos, tests and first runs without real data.

Nothing here is market or weather data. It is generated from fixed seeds and
only looks plausible: the same grain and columns as
`commodity.silver.unified_data` (docs/contract.md), calendar days forward filled,
one row per (date, commodity, region).

What is in it:

- Trading days: the sessions of ICE Futures U.S. softs (core/calendar.py's
  ICEUS_SOFTS, for every name: weekdays except the NYSE's full-day holidays,
  such as Good Friday, Thanksgiving, Juneteenth from 2022). On other days the
  market columns (open, high, low, close, volume, vix, FX) repeat the last
  trading day; weather still changes every day.
- Prices (cents/lb-like levels: Coffee ~140, Sugar ~15, any other name ~100):
  a log-price random walk with Student-t shocks (daily vol about 2.0% Coffee,
  1.8% Sugar, 1.8% others), vol regimes of a few months each, and a very weak
  pull to the long-run level (half-life ~2 years) so that 36 years stay in a
  realistic range. Same values on every region row of a date.
- Weather per region with hemisphere-correct seasons, rain seasons (monsoon,
  bimodal equatorial), persistent wet/dry spells and daily noise.
- Weather moves prices a little every day: the price drift rises with the
  region-averaged precipitation deficit of the trailing 30 days (dry season
  or dry spell -> up, wet -> down; ~0.12%/day per standard deviation). A model
  with weather regressors has something to find, a model without still works.
- Shocks:
  * 2020-03-09 .. 2020-05-29: market stress, vol x1.6 for every commodity and
    a VIX spike (to ~60).
  * FROST, Coffee, Brazil_MinasGerais, 2021-07-19 .. 2021-07-22 (after three
    cold days): temp_min between -3.2 and -0.8 C, the only sub-zero days of
    the Coffee regions. Coffee gets +28% (log 0.247), most of it in the first
    week, spread over the 20 trading days from 2021-07-20, and vol x1.4 until
    2021-10-29.
  * DROUGHT, Sugar, India_UttarPradesh, 2023-06-10 .. 2023-09-30: the monsoon
    fails (wet days x0.2, 40% less rain on each, +1.5 C, drier air). Sugar
    is lifted gradually by +25% (log 0.223) spread evenly over the trading
    days 2023-06-15 .. 2023-10-31, plus what the weather channel adds.
  Inside the two price windows the noise is centered, so the realized move
  across a window is the shock (plus the small weather drift), whatever the
  random draws: measured +32% for Coffee from 2021-07-19 to 2021-08-16, +20%
  for Sugar from 2023-06-14 to 2023-10-31.
- vix: one positive mean-reverting series shared by all commodities.
- FX: <ccy>_usd = units of that currency per 1 USD (brl, cop, vnd, inr, thb),
  positive random walks with gentle drift, shared by all commodities.
- Any other commodity name gets a generic profile: one region 'global' with a
  temperate northern-hemisphere climate, and no shocks except March 2020.

Determinism: everything is generated over the fixed span 2000-01-03 ..
2035-12-31 from seeds that depend only on the commodity (and region) name,
then cut to [start, end]. So the values of a date never depend on `end`,
`start` or on which other commodities are requested.

`date` is datetime64[ns] at midnight (pandas' usual date type; DuckDB and
Spark write it to a DATE column unchanged); is_trading_day is int32 (INT).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import numpy as np
import pandas as pd

from ..config import check_name
from .calendar import ICE_SOFTS, Calendar
from .data import WEATHER_COLUMNS
from .importer import UNIFIED_COLUMNS

GEN_START = date(2000, 1, 3)  # a Monday, so day 0 is a trading day and nothing needs back-filling
GEN_END = date(2035, 12, 31)
_ROOT_SEED = 20150707
_YEAR = 365.2425
_WET_SD = 0.4  # sd of the persistent wet/dry anomaly (log scale)

FX_COLUMNS = ["brl_usd", "cop_usd", "vnd_usd", "inr_usd", "thb_usd"]


@dataclass(frozen=True)
class _Climate:
    name: str
    t_mean: float  # annual mean temperature, C
    t_amp: float  # seasonal half-amplitude, C
    t_peak: int  # day of year of the warmest day
    t_sd: float  # sd of the persistent daily anomaly, C
    dtr: float  # typical diurnal range max-min, C
    rain_peaks: tuple[tuple[int, float], ...]  # (day of year, weight) of the rainy seasons
    kappa: float  # how peaked the rainy seasons are (von Mises concentration)
    annual_mm: float
    dry_share: float  # share of rain that does not follow the season
    p_wet: tuple[float, float]  # chance of a wet day in the driest / wettest part of the year
    humidity: tuple[float, float]  # base and seasonal swing, %
    wind: float  # mean daily max wind, km/h


@dataclass(frozen=True)
class _Profile:
    key: str
    level: float  # long-run price level
    vol: float  # target daily log-return sd
    volume: float  # typical daily volume
    weather_beta: float  # daily drift per sd of precipitation deficit
    regions: tuple[_Climate, ...]


_PROFILES = {
    "coffee": _Profile("coffee", 140.0, 0.020, 25_000, 0.0012, (
        _Climate("Brazil_MinasGerais", 19.5, 3.2, 30, 1.4, 11.0, ((15, 1.0),), 1.6, 1550, 0.08, (0.05, 0.65),
                 (70, 20), 14),
        _Climate("Colombia_Huila", 21.0, 0.6, 60, 0.8, 9.0, ((110, 1.0), (310, 0.95)), 2.0, 1300, 0.30,
                 (0.30, 0.75), (80, 8), 12),
        _Climate("Vietnam_CentralHighlands", 24.0, 2.0, 110, 1.0, 9.5, ((245, 1.0),), 1.4, 1800, 0.08,
                 (0.05, 0.80), (78, 18), 16),
        _Climate("Ethiopia_Sidamo", 19.0, 1.5, 75, 1.0, 12.0, ((115, 1.0), (290, 0.8)), 2.0, 1300, 0.15,
                 (0.10, 0.70), (68, 16), 13),
    )),
    "sugar": _Profile("sugar", 15.0, 0.018, 120_000, 0.0012, (
        _Climate("Brazil_SaoPaulo", 22.5, 2.8, 40, 1.5, 11.0, ((15, 1.0),), 1.5, 1450, 0.08, (0.05, 0.60),
                 (68, 20), 15),
        _Climate("India_UttarPradesh", 25.5, 8.5, 150, 1.6, 12.0, ((210, 1.0),), 3.0, 1000, 0.06,
                 (0.03, 0.70), (60, 35), 11),
        _Climate("Thailand_Isan", 27.0, 2.5, 105, 1.0, 9.0, ((250, 1.0),), 1.5, 1250, 0.10, (0.05, 0.65),
                 (70, 20), 15),
    )),
}
_GENERIC_CLIMATE = _Climate("global", 15.0, 9.0, 200, 2.5, 10.0, ((180, 1.0),), 0.5, 800, 0.40, (0.20, 0.45),
                            (70, 10), 18)

# -- shocks (dates are fixed; see the module docstring) ---------------------------------------
_STRESS = (date(2020, 3, 9), date(2020, 5, 29), 1.6)  # market-wide: vol multiplier
_FROST_DAYS = {date(2021, 7, 19): -1.9, date(2021, 7, 20): -3.2, date(2021, 7, 21): -2.6, date(2021, 7, 22): -0.8}
_FROST = dict(profile="coffee", region="Brazil_MinasGerais", price_from=date(2021, 7, 20), n_days=20,
              decay=0.75, log_effect=float(np.log(1.28)), vol_until=date(2021, 10, 29), vol_mult=1.4)
_DROUGHT = dict(profile="sugar", region="India_UttarPradesh", first=date(2023, 6, 10), last=date(2023, 9, 30),
                price_from=date(2023, 6, 15), price_to=date(2023, 10, 31), log_effect=float(np.log(1.25)),
                rain_mult=0.2, warm=1.5)

# FX: (column, level in 2015, drift per year, daily vol)
_FX = [("brl_usd", 3.3, 0.05, 0.009), ("cop_usd", 2700.0, 0.04, 0.007), ("vnd_usd", 22000.0, 0.015, 0.0012),
       ("inr_usd", 66.0, 0.025, 0.0035), ("thb_usd", 34.0, 0.0, 0.004)]


def _seed(*parts: str) -> np.random.Generator:
    """A generator seeded from names (hashlib: stable across processes, unlike hash())."""
    digest = hashlib.blake2b("|".join((str(_ROOT_SEED),) + parts).encode(), digest_size=16).digest()
    return np.random.default_rng(np.frombuffer(digest, dtype=np.uint32))


def _ar1(e: np.ndarray, phi: float, x0: float = 0.0) -> np.ndarray:
    """x_t = phi * x_{t-1} + e_t, vectorized (pandas' ewm with adjust=False is exactly this recursion)."""
    alpha = 1.0 - phi
    x = e / alpha
    x[0] = x0 + e[0]
    return pd.Series(x).ewm(alpha=alpha, adjust=False).mean().to_numpy()


@dataclass(frozen=True)
class _Calendar:
    days: np.ndarray  # datetime64[D], every calendar day of the span
    trading: np.ndarray  # bool per calendar day
    trade_days: np.ndarray  # datetime64[D], trading days only
    last_trade: np.ndarray  # per calendar day: index into trade_days of the last trading day at or before it


@lru_cache(maxsize=1)
def _calendar() -> _Calendar:
    days = np.arange(np.datetime64(GEN_START, "D"), np.datetime64(GEN_END, "D") + np.timedelta64(1, "D"))
    # The sessions of ICE Futures U.S. softs, where Coffee and Sugar trade (core/calendar.py): the
    # default calendar of both, so their forecasts' steps are exactly the sample's trading days.
    trading = Calendar(ICE_SOFTS).is_session(days)
    trade_days = days[trading]
    last_trade = np.cumsum(trading) - 1  # GEN_START trades, so never -1
    return _Calendar(days, trading, trade_days, last_trade)


def _day_index(day: date) -> int:
    return int((np.datetime64(day, "D") - np.datetime64(GEN_START, "D")).astype("int64"))


def _frozen(d: dict) -> dict:
    for v in d.values():
        v.flags.writeable = False  # cached arrays: callers get copies through fancy indexing
    return d


@lru_cache(maxsize=1)
def _shared_market() -> dict[str, np.ndarray]:
    """vix and FX on trading days: the same for every commodity."""
    cal = _calendar()
    n = len(cal.trade_days)
    t = cal.trade_days
    rng = _seed("vix")
    # log VIX: AR(1) around log 17 with stationary sd ~0.25, plus the March 2020 spike decaying over ~6 weeks.
    phi = 0.985
    e = rng.standard_normal(n) * 0.25 * np.sqrt(1 - phi**2)
    lv = np.log(17.0) + _ar1(e, phi)
    k = np.arange(n) - np.searchsorted(t, np.datetime64(_STRESS[0]))
    lv += np.where(k >= 0, 1.25 * np.exp(-np.clip(k, 0, None) / 30.0), 0.0)
    out = {"vix": np.round(np.maximum(np.exp(lv), 9.0), 2)}
    years = (t - np.datetime64("2015-01-01")).astype("float64") / _YEAR
    phi_fx = 0.5 ** (1 / 500)
    for col, level, drift, vol in _FX:
        rng = _seed("fx", col)
        x = _ar1(rng.standard_normal(n) * vol, phi_fx)
        out[col] = np.round(level * np.exp(drift * years + x), 6)
    return _frozen(out)


def _weather(climate: _Climate, profile_key: str) -> dict[str, np.ndarray]:
    """Daily weather of one region over the whole span (calendar days)."""
    cal = _calendar()
    n = len(cal.days)
    rng = _seed("weather", profile_key, climate.name)
    dnum = cal.days.astype("int64")  # days since 1970: a smooth phase, no leap-year jumps
    phase = 2 * np.pi * dnum / _YEAR
    years = (dnum - np.datetime64("2015-01-01", "D").astype("int64")) / _YEAR

    # Rainy-season shape w in [0, 1]: von Mises bumps around each peak day, normalized to max 1.
    grid = 2 * np.pi * np.arange(366) / _YEAR

    def bumps(ph):
        return sum(wt * np.exp(climate.kappa * (np.cos(ph - 2 * np.pi * pk / _YEAR) - 1))
                   for pk, wt in climate.rain_peaks)

    top = bumps(grid).max()
    w = bumps(phase) / top
    w_mean = (bumps(grid) / top).mean()
    p_lo, p_hi = climate.p_wet
    p_wet = p_lo + (p_hi - p_lo) * w
    expected = climate.annual_mm / _YEAR * (climate.dry_share + w) / (climate.dry_share + w_mean)

    # Persistent wet/dry spells (weeks to months) and temperature anomalies (days).
    wet_anom = _ar1(rng.standard_normal(n) * _WET_SD * np.sqrt(1 - 0.97**2), 0.97)
    t_anom = _ar1(rng.standard_normal(n) * climate.t_sd * np.sqrt(1 - 0.75**2), 0.75)
    u_wet = rng.random(n)
    amount = rng.gamma(0.75, 1.0, n)
    noise = rng.standard_normal((4, n))
    wind = rng.gamma(4.0, climate.wind / 4.0, n)

    rain_mult = np.ones(n)
    warm = np.zeros(n)
    hum_shift = np.zeros(n)
    if profile_key == _DROUGHT["profile"] and climate.name == _DROUGHT["region"]:
        d = (cal.days >= np.datetime64(_DROUGHT["first"])) & (cal.days <= np.datetime64(_DROUGHT["last"]))
        rain_mult[d], warm[d], hum_shift[d] = _DROUGHT["rain_mult"], _DROUGHT["warm"], -15.0

    p = np.clip(p_wet * np.exp(wet_anom) * rain_mult, 0.0, 0.97)
    wet = u_wet < p
    # exp(wet_anom) raises both the chance and (less) the amount: divide out its mean, E[exp(1.3 m)].
    mean_amount = expected / p_wet * np.exp(0.3 * wet_anom) / np.exp(0.5 * (1.3 * _WET_SD) ** 2)
    precip = np.where(wet, amount / 0.75 * mean_amount, 0.0) * np.where(rain_mult < 1, 0.6, 1.0)

    t_mean = (climate.t_mean + climate.t_amp * np.cos(phase - 2 * np.pi * climate.t_peak / _YEAR)
              + 0.02 * years + t_anom + warm - 0.8 * wet)
    half = np.clip(climate.dtr / 2 * (1 + 0.3 * (0.5 - w)) - 1.0 * wet + 0.5 * noise[0], 1.0, None)
    t_max = t_mean + half + 0.4 * np.abs(noise[1])
    t_min = t_mean - half - 0.4 * np.abs(noise[2])
    humidity = (climate.humidity[0] + climate.humidity[1] * (w - w_mean) + 10.0 * wet + 6.0 * wet_anom
                - 0.8 * t_anom + hum_shift + 4.0 * noise[3])

    if profile_key == _FROST["profile"] and climate.name == _FROST["region"]:
        # A polar air mass: a cold lead-in, then clear nights far below zero.
        for day, tmin in _FROST_DAYS.items():
            i = _day_index(day)
            t_min[i], t_max[i], t_mean[i] = tmin, tmin + 15.0, tmin + 7.0
            precip[i], humidity[i] = 0.0, 55.0
        first = _day_index(min(_FROST_DAYS))
        t_mean[first - 3:first] -= 4.0
        t_min[first - 3:first] -= 4.0
        t_max[first - 3:first] -= 4.0

    snow = t_mean < 0.5  # precipitation falls as snow on cold days (generic climates only)
    out = {
        "temp_max_c": np.round(t_max, 1),
        "temp_min_c": np.round(t_min, 1),
        "temp_mean_c": np.round(t_mean, 1),
        "precipitation_mm": np.round(precip, 1),
        "rain_mm": np.round(np.where(snow, 0.0, precip), 1),
        "snowfall_cm": np.round(np.where(snow, precip * 0.7, 0.0), 1),  # ~0.7 cm of snow per mm of water
        "humidity_mean_pct": np.round(np.clip(humidity, 12.0, 100.0), 1),
        "wind_speed_max_kmh": np.round(wind + 4.0 * wet, 1),
    }
    return out


def _precip_stress(weather: list[dict[str, np.ndarray]]) -> np.ndarray:
    """Per calendar day: standardized deficit of the trailing 30-day precipitation (days d-30..d-1).

    Lagged by a day, so the drift of day d only depends on weather before d.
    """
    parts = []
    for wx in weather:
        c = np.concatenate([[0.0], np.cumsum(wx["precipitation_mm"])])
        i = np.arange(len(wx["precipitation_mm"]))
        lo = np.maximum(i - 30, 0)
        trail = (c[i] - c[lo]) / np.maximum(i - lo, 1)
        lvl = np.log1p(trail)
        parts.append(-(lvl - lvl.mean()) / lvl.std())
    s = np.mean(parts, axis=0)
    return (s - s.mean()) / s.std()


def _profile(name: str) -> _Profile:
    p = _PROFILES.get(name.strip().lower())
    if p is not None:
        return p
    return _Profile(f"generic:{name}", 100.0, 0.018, 10_000, 0.0008, (_GENERIC_CLIMATE,))


@lru_cache(maxsize=16)
def _generate(name: str) -> dict:
    """Everything for one commodity over the whole span: market on trading days, weather per region."""
    prof = _profile(name)
    cal = _calendar()
    t = cal.trade_days
    n = len(t)
    rng = _seed("price", prof.key)

    weather = [_weather(c, prof.key) for c in prof.regions]
    stress = _precip_stress(weather)[cal.trading]

    # Vol regimes: calm / normal / turbulent, each lasting ~6 months on average.
    mults = np.array([0.7, 1.0, 1.45])
    probs = np.array([0.3, 0.45, 0.25])
    n_reg = n // 40 + 2
    lengths = rng.geometric(1 / 125, n_reg)
    states = rng.choice(3, n_reg, p=probs)
    vol_mult = np.repeat(mults[states], lengths)
    while len(vol_mult) < n:  # practically never: the draws cover ~3x the span
        vol_mult = np.concatenate([vol_mult, vol_mult])
    vol_mult = vol_mult[:n] / np.sqrt(probs @ mults**2)  # rms multiplier 1, so vol is ~prof.vol
    between = (t >= np.datetime64(_STRESS[0])) & (t <= np.datetime64(_STRESS[1]))
    vol_mult = np.where(between, vol_mult * _STRESS[2], vol_mult)
    if prof.key == _FROST["profile"]:
        between = (t >= np.datetime64(_FROST["price_from"])) & (t <= np.datetime64(_FROST["vol_until"]))
        vol_mult = np.where(between, vol_mult * _FROST["vol_mult"], vol_mult)

    df_t = 5.0  # Student-t shocks scaled to unit variance: fat tails like real futures returns
    eps = rng.standard_t(df_t, n) / np.sqrt(df_t / (df_t - 2))
    sigma = prof.vol * vol_mult
    innov = -0.5 * sigma**2 + prof.weather_beta * stress  # + noise and shocks below

    # Shock windows: the noise inside is centered (the path is a bridge), so the move across the
    # window is the shock itself and not whatever the noise of those weeks happened to add.
    noise = sigma * eps
    if prof.key == _FROST["profile"]:
        i0 = int(np.searchsorted(t, np.datetime64(_FROST["price_from"])))
        w = slice(i0, i0 + _FROST["n_days"])
        wts = _FROST["decay"] ** np.arange(_FROST["n_days"])
        noise[w] -= noise[w].mean()
        innov[w] += _FROST["log_effect"] * wts / wts.sum()
    if prof.key == _DROUGHT["profile"]:
        w = (t >= np.datetime64(_DROUGHT["price_from"])) & (t <= np.datetime64(_DROUGHT["price_to"]))
        noise[w] -= noise[w].mean()
        innov[w] += _DROUGHT["log_effect"] / w.sum()
    innov += noise

    # Very weak pull to the long-run level (half-life ~500 trading days) so decades stay plausible.
    phi = 0.5 ** (1 / 500)
    x0 = rng.standard_normal() * 0.2
    log_close = np.log(prof.level) + _ar1(innov, phi, x0)
    close = np.exp(log_close)

    # open near the previous close; high/low beyond both, so low <= open, close <= high.
    z = rng.standard_normal((3, n))
    prev = np.concatenate([[close[0]], close[:-1]])
    open_ = prev * np.exp(0.25 * sigma * z[0])
    high = np.maximum(open_, close) * np.exp(0.5 * sigma * np.abs(z[1]))
    low = np.minimum(open_, close) * np.exp(-0.5 * sigma * np.abs(z[2]))
    ret = np.abs(np.diff(log_close, prepend=log_close[0]))
    volume = np.round(prof.volume * np.exp(0.3 * rng.standard_normal(n)) * (1 + 15 * ret) * np.sqrt(vol_mult))

    market = {"open": np.round(open_, 4), "high": np.round(high, 4), "low": np.round(low, 4),
              "close": np.round(close, 4), "volume": np.maximum(volume, 1.0)}
    return {"market": _frozen(market), "regions": [c.name for c in prof.regions],
            "weather": [_frozen(w) for w in weather]}


def _yesterday_utc() -> date:
    return (datetime.now(timezone.utc) - timedelta(days=1)).date()


def make_sample(end: date | None = None, commodities=("Coffee", "Sugar"), start: date = date(2015, 7, 7)
                ) -> pd.DataFrame:
    """Synthetic unified_data for `commodities` from `start` to `end` (default: yesterday, UTC), inclusive.

    Rows are sorted by commodity, region, date. Columns: the contract columns in
    contract order, then FX_COLUMNS. Raises ValueError for dates outside
    GEN_START..GEN_END or end < start, config.ConfigError for a bad name.
    """
    end = _yesterday_utc() if end is None else pd.Timestamp(end).date()
    start = pd.Timestamp(start).date()
    if start < GEN_START or end > GEN_END:
        raise ValueError(f"the synthetic sample covers {GEN_START} .. {GEN_END}; asked for {start} .. {end}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if isinstance(commodities, str):
        commodities = (commodities,)
    names = sorted(dict.fromkeys(check_name(c) for c in commodities))
    if not names:
        raise ValueError("no commodity asked for")

    cal = _calendar()
    i0 = _day_index(start)
    i1 = _day_index(end) + 1
    days = cal.days[i0:i1]
    n = len(days)
    tix = cal.last_trade[i0:i1]  # market values of a day = those of its last trading day
    shared = _shared_market()

    frames = []
    for name in names:
        g = _generate(name)
        order = np.argsort(g["regions"], kind="stable")
        r = len(order)
        cols: dict[str, np.ndarray] = {
            "date": np.tile(days, r).astype("datetime64[ns]"),
            "is_trading_day": np.tile(cal.trading[i0:i1], r).astype("int32"),
            "commodity": np.full(n * r, name, dtype=object),
        }
        for c in ("open", "high", "low", "close", "volume"):
            cols[c] = np.tile(g["market"][c][tix], r)
        cols["vix"] = np.tile(shared["vix"][tix], r)
        cols["region"] = np.repeat(np.array(g["regions"], dtype=object)[order], n)
        for c in WEATHER_COLUMNS:
            cols[c] = np.concatenate([g["weather"][k][c][i0:i1] for k in order])
        for c in FX_COLUMNS:
            cols[c] = np.tile(shared[c][tix], r)
        frames.append(pd.DataFrame(cols, columns=UNIFIED_COLUMNS + FX_COLUMNS))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
