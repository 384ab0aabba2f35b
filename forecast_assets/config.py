"""Settings from the environment (FORECAST_*), with defaults that work on a fresh machine.

Every FORECAST_* variable is read and checked here, once per process (Settings.from_env). Read
elsewhere, on purpose: DATABRICKS_HOST / DATABRICKS_HTTP_PATH / DATABRICKS_TOKEN, credentials that
the Databricks store and Dagster's launcher take from the environment of the process that needs
them so they never sit in settings, config or logs; FORECAST_DATABRICKS_LAUNCHER_SPEC, set by the
launcher for the remote step's failure hints (defs/failures.py); and the launcher passes the
variables it finds on to the clusters as they are, where this module reads them again.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from forecast_assets.core.calendar import DEFAULT_CALENDARS, WEEKDAYS, Calendar, CalendarError, check_calendar

# Names that end up in SQL (as values, never identifiers) and in partition keys:
# letters, digits, space, dot, dash, underscore. Partition keys may not hold '|' or ','.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
# Formatted into SQL as identifiers and paths (Databricks): nothing but these characters.
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_VOLUME_RE = re.compile(r"^/Volumes/[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]+(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")

# The names of the environments; what each one means is defs/environments.py's table (a test keeps both in step).
ENVIRONMENTS = ("local", "databricks")
DEFAULT_COMMODITIES = ("Coffee", "Sugar")
DEFAULT_START_DATE = date(2018, 1, 1)
# Steps (sessions of the commodity's calendar) per forecast. Every table shape, model and window that depends on it takes it
# from Settings.horizon; a database made with another horizon is refused (storage/horizon.py).
DEFAULT_HORIZON = 14
MAX_HORIZON = 60
DEFAULT_CATALOG = "commodity"  # the tables' catalog (storage.schema.CATALOG); another one only on Databricks
DEFAULT_DEPLOY_DIR = Path(__file__).resolve().parents[1] / "deploy" / "databricks"
DEFAULT_EXPLORER_PORT = 8050
_URL_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~/\-]*)?$")
# The step launcher's bounded waits, in seconds (deploy/README.md, "Bounded waits", says why these).
DEFAULT_CONNECT_TIMEOUT = 30     # one API request: a workspace answers in well under a second
DEFAULT_UPLOAD_TIMEOUT = 300     # the four staged files, ~1 MB in all: minutes only on a link that is failing
DEFAULT_START_TIMEOUT = 1800     # submitted -> running: cluster start plus library installs, ~5-15 min
DEFAULT_POLL_TIMEOUT = 300       # the Jobs API unreachable while a run goes on (the SDK's own retry budget)


class ConfigError(ValueError):
    """A FORECAST_* setting is malformed."""


def check_name(value: str, what: str = "commodity") -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ConfigError(
            f"{what} name {value!r} is not allowed: use 1-64 letters, digits, spaces, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def _catalog(raw: str | None) -> str:
    catalog = (raw or "").strip() or DEFAULT_CATALOG
    if not _IDENT_RE.match(catalog):
        raise ConfigError(f"FORECAST_DATABRICKS_CATALOG={catalog!r} is not a safe identifier (letters, digits, "
                          f"underscore; not starting with a digit)")
    return catalog


def _volume(raw: str | None, catalog: str) -> str:
    volume = (raw or "").strip() or f"/Volumes/{catalog}/forecast/staging"
    if not _VOLUME_RE.match(volume.rstrip("/")) or ".." in volume:
        raise ConfigError(f"FORECAST_DATABRICKS_VOLUME={volume!r} is not a safe Unity Catalog volume path "
                          f"(/Volumes/<catalog>/<schema>/<volume>[/<folder>...], letters, digits, _ . -)")
    return volume.rstrip("/")


def _commodities(raw: str | None) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return DEFAULT_COMMODITIES
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    if not names:
        raise ConfigError(f"FORECAST_COMMODITIES={raw!r} names no commodity")
    seen: dict[str, str] = {}
    for n in names:
        check_name(n)
        if n.casefold() in seen:  # 'Coffee' and 'coffee' would be two commodities with half the data each
            raise ConfigError(f"FORECAST_COMMODITIES={raw!r} names {seen[n.casefold()]!r} and {n!r}, which differ "
                              f"only in case: use one spelling, the one in unified_data")
        seen[n.casefold()] = n
    return names


def _calendars(raw: str | None) -> tuple[str, ...]:
    """FORECAST_CALENDARS, e.g. "Coffee=ICEUS_SOFTS,WTI=CMES", over DEFAULT_CALENDARS: sorted "commodity=calendar"."""
    out = dict(DEFAULT_CALENDARS)
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        commodity, sep, name = (p.strip() for p in item.partition("="))
        if not sep or not commodity or not name:
            raise ConfigError(f"FORECAST_CALENDARS: {item.strip()!r} is not commodity=calendar "
                              f"(e.g. Coffee=ICEUS_SOFTS,WTI=CMES)")
        check_name(commodity)
        try:
            out[commodity] = check_calendar(name)
        except CalendarError as exc:
            raise ConfigError(f"FORECAST_CALENDARS: {commodity}={name}: {exc}") from exc
    return tuple(f"{c}={n}" for c, n in sorted(out.items()))


def _date(raw: str | None, default: date, var: str) -> date:
    if raw is None or not raw.strip():
        return default
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ConfigError(f"{var}={raw!r} is not a date in YYYY-MM-DD form") from exc


def _int(raw: str | None, default: int, var: str, lo: int, hi: int) -> int:
    if raw is None or not raw.strip():
        return default
    try:
        v = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{var}={raw!r} is not an integer") from exc
    if not lo <= v <= hi:
        raise ConfigError(f"{var}={v} is outside {lo}..{hi}")
    return v


def _url(raw: str | None, default: str) -> str:
    """FORECAST_EXPLORER_URL: it goes into the asset descriptions' markdown, so a plain http(s) address only."""
    url = (raw or "").strip() or default
    if not _URL_RE.match(url):
        raise ConfigError(f"FORECAST_EXPLORER_URL={url!r} is not a plain http(s) address "
                          f"(like http://127.0.0.1:8050 or https://forecasts.example.com/explorer)")
    return url.rstrip("/")


@dataclass(frozen=True)
class Settings:
    env: str = "local"
    duckdb_path: Path = Path("data/forecast.duckdb")
    artifact_dir: Path = Path("data/artifacts")
    plot_dir: Path = Path("data/plots")
    commodities: tuple[str, ...] = DEFAULT_COMMODITIES
    start_date: date = DEFAULT_START_DATE
    model_version: str = "v1.0"
    n_paths: int = 2000
    horizon: int = DEFAULT_HORIZON
    seed: int = 20180101
    # "commodity=calendar" (text, so Dagster config holds it as is); a commodity not listed steps on
    # weekdays (core/calendar.py)
    calendars: tuple[str, ...] = tuple(f"{c}={n}" for c, n in sorted(DEFAULT_CALENDARS.items()))
    # Spark for large backfills: "" off, "local" (local[*]) or a master URL; always on under databricks.
    spark: str = ""
    spark_min_days: int = 60  # a run with at least this many days per commodity goes through Spark
    # FORECAST_ENV=databricks only: the tables' catalog, where rows are staged, the cluster that runs
    # forecasting steps ("" = a new one from the spec) and the folder of launcher specs.
    databricks_catalog: str = DEFAULT_CATALOG
    databricks_volume: str = f"/Volumes/{DEFAULT_CATALOG}/forecast/staging"
    databricks_cluster_id: str = ""
    databricks_deploy_dir: Path = DEFAULT_DEPLOY_DIR
    # The forecast explorer (`make explore`): the port it listens on (127.0.0.1 only) and the address the
    # Dagster UI's asset descriptions link to (another host when it is served elsewhere).
    explorer_port: int = DEFAULT_EXPLORER_PORT
    explorer_url: str = f"http://127.0.0.1:{DEFAULT_EXPLORER_PORT}"
    # Bounded waits of the step launcher (seconds; defs/databricks_launcher.py, deploy/README.md says why
    # these defaults). Each one ends the step with a failure naming the host, the step and what to check.
    databricks_connect_timeout: int = DEFAULT_CONNECT_TIMEOUT
    databricks_upload_timeout: int = DEFAULT_UPLOAD_TIMEOUT
    databricks_start_timeout: int = DEFAULT_START_TIMEOUT
    databricks_poll_timeout: int = DEFAULT_POLL_TIMEOUT

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Settings":
        e = os.environ if environ is None else environ
        env = (e.get("FORECAST_ENV") or "local").strip().lower()
        if env not in ENVIRONMENTS:
            raise ConfigError(f"FORECAST_ENV={env!r}: use {' or '.join(map(repr, ENVIRONMENTS))}")
        version = (e.get("FORECAST_MODEL_VERSION") or "v1.0").strip()
        if not _VERSION_RE.match(version):
            raise ConfigError(f"FORECAST_MODEL_VERSION={version!r} is not a valid version label (like v1.0)")
        data_dir = Path(e.get("FORECAST_DATA_DIR") or "data")
        catalog = _catalog(e.get("FORECAST_DATABRICKS_CATALOG"))
        explorer_port = _int(e.get("FORECAST_EXPLORER_PORT"), DEFAULT_EXPLORER_PORT, "FORECAST_EXPLORER_PORT", 1, 65535)
        return cls(
            env=env,
            duckdb_path=Path(e.get("FORECAST_DUCKDB_PATH") or data_dir / "forecast.duckdb"),
            artifact_dir=Path(e.get("FORECAST_ARTIFACT_DIR") or data_dir / "artifacts"),
            plot_dir=Path(e.get("FORECAST_PLOT_DIR") or data_dir / "plots"),
            commodities=_commodities(e.get("FORECAST_COMMODITIES")),
            start_date=_date(e.get("FORECAST_START_DATE"), DEFAULT_START_DATE, "FORECAST_START_DATE"),
            model_version=version,
            n_paths=_int(e.get("FORECAST_N_PATHS"), 2000, "FORECAST_N_PATHS", 10, 100_000),
            horizon=_int(e.get("FORECAST_HORIZON"), DEFAULT_HORIZON, "FORECAST_HORIZON", 1, MAX_HORIZON),
            seed=_int(e.get("FORECAST_SEED"), 20180101, "FORECAST_SEED", 0, 2**31 - 1),
            calendars=_calendars(e.get("FORECAST_CALENDARS")),
            spark=(e.get("FORECAST_SPARK") or "").strip(),
            spark_min_days=_int(e.get("FORECAST_SPARK_MIN_DAYS"), 60, "FORECAST_SPARK_MIN_DAYS", 1, 100_000),
            databricks_catalog=catalog,
            databricks_volume=_volume(e.get("FORECAST_DATABRICKS_VOLUME"), catalog),
            databricks_cluster_id=(e.get("FORECAST_DATABRICKS_CLUSTER_ID") or "").strip(),
            databricks_deploy_dir=Path(e.get("FORECAST_DATABRICKS_DEPLOY_DIR") or DEFAULT_DEPLOY_DIR),
            explorer_port=explorer_port,
            explorer_url=_url(e.get("FORECAST_EXPLORER_URL"), f"http://127.0.0.1:{explorer_port}"),
            databricks_connect_timeout=_int(e.get("FORECAST_DATABRICKS_CONNECT_TIMEOUT"), DEFAULT_CONNECT_TIMEOUT,
                                            "FORECAST_DATABRICKS_CONNECT_TIMEOUT", 1, 600),
            databricks_upload_timeout=_int(e.get("FORECAST_DATABRICKS_UPLOAD_TIMEOUT"), DEFAULT_UPLOAD_TIMEOUT,
                                           "FORECAST_DATABRICKS_UPLOAD_TIMEOUT", 1, 3600),
            databricks_start_timeout=_int(e.get("FORECAST_DATABRICKS_START_TIMEOUT"), DEFAULT_START_TIMEOUT,
                                          "FORECAST_DATABRICKS_START_TIMEOUT", 1, 4 * 3600),
            databricks_poll_timeout=_int(e.get("FORECAST_DATABRICKS_POLL_TIMEOUT"), DEFAULT_POLL_TIMEOUT,
                                         "FORECAST_DATABRICKS_POLL_TIMEOUT", 1, 3600),
        )

    def calendar(self, commodity: str) -> Calendar:
        """The calendar of `commodity`'s steps, cutoffs and actuals: FORECAST_CALENDARS, else weekdays; its
        sessions kept between processes in a "cache" folder beside the DuckDB file (FORECAST_DATA_DIR/cache)."""
        return Calendar(dict(c.split("=", 1) for c in self.calendars).get(commodity, WEEKDAYS),
                        cache_dir=str(Path(self.duckdb_path).parent / "cache"))
