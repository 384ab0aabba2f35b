"""Security: stored data is never code, names never become SQL, secrets stay in the environment,
and the UI listens on 127.0.0.1 unless told otherwise. README.md, section Security, says the same."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import pickle
import re
import subprocess
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from forecast_assets.runs import forecasting, loading
from forecast_assets.runs.artifacts import ArtifactError
from forecast_assets.config import ConfigError, Settings
from forecast_assets.core import fitted
from forecast_assets.core.fitted import FittedModelError
from forecast_assets.core.calendar import ICE_SOFTS, Calendar
from forecast_assets.core.forecast import forecast
from forecast_assets.core.models import REGISTRY, ModelError, model_class
from forecast_assets.core.paths import day_seeds
from forecast_assets.storage.delta import DeltaStore
from forecast_assets.storage.duckdb_store import DuckDBStore
from forecast_assets.storage.rows import distribution_rows, point_rows
from forecast_assets.storage.schema import columns, qualified
from forecast_assets_tests.read_sql import read_sql

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "forecast_assets"
MODELS = sorted(REGISTRY)
QUICK = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
# Names an attacker (or a careless config) might hand us.
HOSTILE = ["Coffee'; DROP TABLE commodity.forecast.distributions; --", 'Co"ffee', "Cof`fee", "Coffee|2024-01-01",
           "x' OR '1'='1", "Coffee\nDROP", "Coffee;", "../../etc/passwd", "Coff\u00e9e", "Coffee\\", "$(reboot)",
           "Coffee/*", "Coffee\x00", "Coffee\u202e"]


# -- 1. stored data is never code -------------------------------------------------------------------
# Calls and imports that turn bytes into objects or code. yaml.load is fine only with a safe Loader.
UNSAFE_MODULES = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "shelve", "marshal", "joblib", "torch"}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__"}
UNSAFE_ATTRS = {("yaml", "unsafe_load"), ("yaml", "full_load"), ("yaml", "unsafe_load_all"), ("yaml", "full_load_all"),
                ("pd", "read_pickle"), ("pandas", "read_pickle"), ("torch", "load")}
# Dynamic imports only from constant tables, by a checked name: the model registry (after the schema
# checked the name) and the environment table's stores (after config checked FORECAST_ENV).
DYNAMIC_IMPORT_OK = {"forecast_assets/core/models/__init__.py", "forecast_assets/defs/environments.py"}


def unsafe_uses(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [f"{line} import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"{line} from {node.module} import")
        elif isinstance(node, ast.Call):
            f, kw = node.func, {k.arg: k.value for k in node.keywords}
            if isinstance(f, ast.Name) and f.id in UNSAFE_BUILTINS:
                found.append(f"{line} {f.id}()")
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                pair = (f.value.id, f.attr)
                if pair in UNSAFE_ATTRS or f.value.id in UNSAFE_MODULES:
                    found.append(f"{line} {f.value.id}.{f.attr}()")
                elif pair in (("yaml", "load"), ("yaml", "load_all")):
                    loader = kw.get("Loader", node.args[1] if len(node.args) > 1 else None)
                    if not (isinstance(loader, ast.Attribute) and loader.attr in ("SafeLoader", "CSafeLoader")):
                        found.append(f"{line} yaml.{f.attr}() without SafeLoader")
                elif pair[1] == "load" and getattr(kw.get("allow_pickle"), "value", False) is True:
                    found.append(f"{line} load(allow_pickle=True)")
                elif pair == ("importlib", "import_module") and where not in DYNAMIC_IMPORT_OK:
                    found.append(f"{line} importlib.import_module()")
    return found


def test_the_package_never_unpickles_evals_or_loads_unsafe_yaml():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    found = [u for f in files for u in unsafe_uses(f.read_text(), str(f.relative_to(ROOT)))]
    assert found == []


def test_the_scanner_sees_every_unsafe_form():
    bad = """
import pickle
from dill import loads
import yaml, numpy as np, pandas as pd, importlib
pickle.loads(b"")
eval("1")
exec("x = 1")
compile("1", "f", "eval")
yaml.load(text)
yaml.load(text, Loader=yaml.Loader)
yaml.unsafe_load(text)
np.load("f.npy", allow_pickle=True)
pd.read_pickle("f")
importlib.import_module(name)
"""
    ok = "import yaml\nyaml.safe_load(t)\nyaml.load(t, Loader=yaml.SafeLoader)\nre.compile('x')\ncon.execute('x')\n"
    flagged = {int(u.split(":")[1].split()[0]) for u in unsafe_uses(bad, "x.py")}
    assert flagged == set(range(2, 15)) - {4}  # every line but the harmless imports
    assert unsafe_uses(ok, "x.py") == []


def test_ci_fails_on_pickle_eval_exec_and_unsafe_yaml(tmp_path):
    """.ci/run's grep, run on a copy of the package with each forbidden call added in turn."""
    line = next(ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.startswith("if grep"))
    pattern = re.search(r"'([^']+)'", line).group(1)
    clean = subprocess.run(["grep", "-rnE", pattern, str(PACKAGE)], capture_output=True, text=True)
    assert clean.returncode == 1, clean.stdout  # nothing in the package today
    for snippet in ("pickle.load(f)", "pickle.loads(b)", "eval(s)", "exec(s)", "yaml.load(s)",
                    "yaml.unsafe_load(s)", "torch.load(p)", "pd.read_pickle(p)"):
        (tmp_path / "m.py").write_text(f"x = 1\n{snippet}\n")
        assert subprocess.run(["grep", "-rnE", pattern, str(tmp_path)], capture_output=True).returncode == 0, snippet
    for fine in ("yaml.safe_load(s)", "con.execute(s)", "self._exec(cur, s)", "re.compile(s)"):
        (tmp_path / "m.py").write_text(f"{fine}\n")
        assert subprocess.run(["grep", "-rnE", pattern, str(tmp_path)], capture_output=True).returncode == 1, fine


# -- 2. fitted models are validated JSON before any model code runs -------------------------------
def _tamperings(doc: dict) -> list[tuple[str, str]]:
    """(name, text) pairs: a real model document changed the ways a tampered row could be."""
    params_schema = model_class(doc["model_name"]).params_schema
    required = params_schema["required"]
    out = []

    def add(name, mutate):
        d = json.loads(json.dumps(doc))
        mutate(d)
        out.append((name, json.dumps(d)))

    add("unknown model", lambda d: d.update(model_name="os:system"))
    add("other format", lambda d: d.update(format="pickle"))
    add("extra envelope key", lambda d: d.update(__reduce__="os.system"))
    add("cutoff not a date", lambda d: d.update(training_cutoff_date="2024-13-45"))
    add("params not an object", lambda d: d.update(params=[1, 2, 3]))
    add("extra params key", lambda d: d["params"].update(__class__="builtins.eval"))
    for key in required:
        add(f"params.{key} missing", lambda d, k=key: d["params"].pop(k))
        add(f"params.{key} a string", lambda d, k=key: d["params"].update({k: "__import__('os').system('x')"}))
    text = json.dumps(doc)
    out += [("NaN", text.replace(":", ":NaN,\"_\":", 1)), ("truncated", text[: len(text) // 2]),
            ("nested too deep", "[" * 100_000 + "]" * 100_000), ("empty", ""),
            ("pickle protocol 0", pickle.dumps({"a": 1}, protocol=0).decode("ascii"))]
    return out


@pytest.mark.parametrize("model_name", MODELS)
def test_every_tampering_of_a_real_model_is_refused(model_name, small_trained):
    t = small_trained(model_name)
    assert fitted.loads(t.text) == t.doc  # the untampered document loads
    cases = _tamperings(t.doc)
    assert len(cases) >= 15
    for name, text in cases:
        with pytest.raises(FittedModelError):
            fitted.loads(text)


class _Spy:
    """Records that model code ran (monkeypatched over fit and simulate)."""

    def __init__(self):
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append(args)
        raise AssertionError("model code ran on a tampered model")


@pytest.mark.parametrize("model_name", MODELS)
def test_a_tampered_stored_model_stops_the_run_before_model_code(model_name, small_trained, store, settings,
                                                                 monkeypatch):
    spy = _Spy()
    monkeypatch.setattr(model_class(model_name), "simulate", spy)
    monkeypatch.setattr(model_class(model_name), "fit", spy)
    t = small_trained(model_name)
    w, n_dist = date(2024, 1, 1), qualified("distributions")
    row = {"commodity": "Coffee", "model_name": model_name, "model_version": settings.model_version,
           "training_start_date": t.training_start_date, "training_cutoff_date": t.training_cutoff_date,
           "fitted_model_json": None, "fitted_model_s3_path": None, "created_at": datetime(2024, 1, 1),
           "created_by": "test", "year": 2023, "month": 12, "window_start": w, "model_fingerprint": t.fingerprint}
    for name, text in _tamperings(t.doc)[::3]:
        store.write_trained_model(row | {"fitted_model_json": text})
        with pytest.raises(FittedModelError):
            forecasting.forecast_days(store, settings, model_name, "Coffee", [date(2024, 1, 2)])
    assert spy.calls == []
    assert read_sql(store, f"SELECT COUNT(*) AS n FROM {n_dist}")["n"].iloc[0] == 0


class _Boom:
    """Unpickling this touches a file: proof that a pickle would have run."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


def test_a_pickle_where_a_model_belongs_is_refused_unrun(store, settings, tmp_path):
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_Boom(marker)))  # the payload is live...
    assert marker.exists()
    marker.unlink()
    w = date(2024, 1, 1)
    row = {"commodity": "Coffee", "model_name": "naive", "model_version": settings.model_version,
           "training_start_date": date(2015, 7, 7), "training_cutoff_date": date(2023, 12, 29),
           "fitted_model_json": None, "fitted_model_s3_path": None, "created_at": datetime(2024, 1, 1),
           "created_by": "test", "year": 2023, "month": 12, "window_start": w, "model_fingerprint": "x"}
    # ...inline (protocol 0 is ASCII text), and as an artifact file (binary protocol).
    store.write_trained_model(row | {"fitted_model_json": pickle.dumps(_Boom(marker), protocol=0).decode("ascii")})
    with pytest.raises(FittedModelError, match="not valid JSON"):
        loading.load_trained(store, settings, "naive", "Coffee", w)
    (tmp_path / "model.json").write_bytes(pickle.dumps(_Boom(marker), protocol=5))
    store.write_trained_model(row | {"fitted_model_s3_path": str(tmp_path / "model.json")})
    with pytest.raises(ArtifactError, match="not UTF-8 JSON"):
        loading.load_trained(store, settings, "naive", "Coffee", w)
    assert not marker.exists()


# -- 3. names from configuration never become SQL ---------------------------------------------------
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")


@QUICK
@given(raw=st.text(min_size=1, max_size=80))
@example(raw=",".join(HOSTILE))
def test_configured_commodities_are_safe_names_or_refused(raw):
    try:
        names = Settings.from_env({"FORECAST_COMMODITIES": raw}).commodities
    except ConfigError as exc:
        assert "not allowed" in str(exc) or "names no commodity" in str(exc)
        return
    assert all(SAFE_NAME.match(n) and len(n) <= 64 for n in names), names


@QUICK
@given(raw=st.text(min_size=1, max_size=40))
def test_configured_model_versions_are_safe_labels_or_refused(raw):
    try:
        version = Settings.from_env({"FORECAST_MODEL_VERSION": raw}).model_version
    except ConfigError as exc:
        assert "FORECAST_MODEL_VERSION" in str(exc)
        return
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", version)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_refused_at_every_door(name):
    with pytest.raises(ConfigError):
        Settings.from_env({"FORECAST_COMMODITIES": f"Coffee,{name}"})
    with pytest.raises(ConfigError):
        Settings.from_env({"FORECAST_MODEL_VERSION": name})
    with pytest.raises((ConfigError, ModelError)):
        DeltaStore("commodity").replace_forecasts({}, "v1.0", [(name, "naive", [date(2024, 1, 2)])])
    with pytest.raises((ConfigError, ModelError)):
        DeltaStore("commodity").replace_forecasts({}, "v1.0", [("Coffee", name, [date(2024, 1, 2)])])
    with pytest.raises(ConfigError):
        DeltaStore("commodity").replace_forecasts({}, name, [("Coffee", "naive", [date(2024, 1, 2)])])
    with pytest.raises(ConfigError):
        DeltaStore(name)


@QUICK
@given(catalog=st.text(min_size=1, max_size=40), volume=st.text(min_size=1, max_size=60))
@example(catalog="commodity; DROP CATALOG main", volume="/Volumes/a/b/c' OR '1'='1")
def test_databricks_catalog_and_volume_are_identifiers_or_refused(catalog, volume):
    pytest.importorskip("databricks.sql")
    from forecast_assets.storage.databricks_sql import DatabricksSQLStore

    env = {"DATABRICKS_HOST": "h", "DATABRICKS_HTTP_PATH": "/p", "DATABRICKS_TOKEN": "t"}
    # Settings refuse the name, naming the variable, or the store accepts what they kept.
    try:
        s = DatabricksSQLStore.from_settings(Settings.from_env(env | {"FORECAST_DATABRICKS_CATALOG": catalog}), env)
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s.catalog)
    except ConfigError as exc:
        assert "FORECAST_DATABRICKS_CATALOG" in str(exc)
    try:
        s = DatabricksSQLStore.from_settings(Settings.from_env(env | {"FORECAST_DATABRICKS_VOLUME": volume}), env)
        assert re.fullmatch(r"/Volumes(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)+", s.staging_volume) and ".." not in volume
    except ConfigError as exc:
        assert "FORECAST_DATABRICKS_VOLUME" in str(exc)


def test_a_hostile_duckdb_path_is_bound_not_spliced(tmp_path):
    path = tmp_path / "it's\"; DETACH commodity; --.duckdb"
    store = DuckDBStore(path)
    store.ensure_schema()
    assert path.is_file()
    assert read_sql(store, f"SELECT COUNT(*) AS n FROM {qualified('trained_models')}")["n"].iloc[0] == 0


@pytest.fixture(scope="module")
def small_store(tmp_path_factory, sample_unified, small_trained):
    """A DuckDB file with a month of Coffee and Sugar, and a day of naive forecasts for Coffee."""
    store = DuckDBStore(tmp_path_factory.mktemp("binding") / "f.duckdb")
    store.ensure_schema()
    u = sample_unified
    store.replace_unified(u[(u["date"] >= "2023-12-01") & (u["date"] < "2024-01-10")].reset_index(drop=True))
    days = np.array(["2024-01-03"], dtype="datetime64[D]")
    batch = forecast(small_trained("naive"), _daily(store), days, n_paths=5,
                     seeds=day_seeds(1, "Coffee", "naive", "v1.0", days), horizon=14,
                     calendar=Calendar(ICE_SOFTS))
    return store, batch


def _days(batch) -> list[date]:
    return [pd.Timestamp(d).date() for d in batch.days]


def _daily(store):
    from forecast_assets.core.data import daily_series

    return daily_series(store.read_unified("Coffee"), "Coffee")


def _counts(store) -> dict:
    return {t: int(read_sql(store, f"SELECT COUNT(*) AS n FROM {qualified(t)}")["n"].iloc[0])
            for t in ("unified_data", "trained_models", "distributions", "point_forecasts")}


# NUL is left out here: see test_a_trailing_nul_in_a_key_never_lands_on_another_key.
_NO_NUL = st.characters(codec="utf-8", exclude_characters="\x00")  # UTF-8 text, as every name is
_ANY_NAME = [n for n in HOSTILE if "\x00" not in n]


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.one_of(st.sampled_from(_ANY_NAME), st.text(_NO_NUL, min_size=1, max_size=30)),
       version=st.one_of(st.sampled_from(_ANY_NAME), st.text(_NO_NUL, min_size=1, max_size=12)))
def test_duckdb_binds_every_value(small_store, name, version):
    """Below the configuration checks, whatever string reaches the store is a value, never SQL:
    it reads back exactly, and nothing else moves."""
    store, batch = small_store
    before = _counts(store)
    assert store.read_unified(name).empty
    assert store.forecast_status(name, "naive", version, date(2024, 1, 1), date(2024, 1, 31)).empty
    row = {c: None for c in columns("trained_models")} | {
        "commodity": name, "model_name": version, "model_version": version, "window_start": date(2024, 1, 1),
        "fitted_model_json": name, "created_by": version}
    store.write_trained_model(row)
    store.write_trained_model(row)  # replaced, not duplicated
    back = store.read_trained_model(name, version, version, date(2024, 1, 1))
    assert (back["commodity"], back["model_name"], back["fitted_model_json"]) == (name, version, name)
    b = dataclasses.replace(batch, commodity=name)
    store.replace_forecasts(name, "naive", version, _days(batch), distribution_rows(b, version),
                            point_rows(b, version))
    st_ = store.forecast_status(name, "naive", version, date(2024, 1, 1), date(2024, 1, 31))
    assert len(st_) == 1 and st_["n_points"].iloc[0] == 14
    after = _counts(store)
    assert after["unified_data"] == before["unified_data"]
    # Clean up with bound statements, so examples stay independent (a forecast write only appends a
    # vintage, so its rows are deleted here).
    with store.transaction() as con:
        for t in ("trained_models", "distributions", "point_forecasts"):
            con.execute(f"DELETE FROM {qualified(t)} WHERE commodity = ?", [name])
    assert _counts(store) == before


def test_a_trailing_nul_in_a_key_never_lands_on_another_key(small_store):
    # Key columns are Arrow repeats of the exact string (numpy's fixed-width unicode stripped NULs).
    store, batch = small_store
    name = "Coffee-nul-test"
    for commodity in (name, name + "\x00"):
        b = dataclasses.replace(batch, commodity=commodity)
        store.replace_forecasts(commodity, "naive", "v1.0", _days(batch), distribution_rows(b, "v1.0"),
                                point_rows(b, "v1.0"))
    try:
        got = read_sql(store, f"SELECT commodity, COUNT(*) AS n FROM {qualified('point_forecasts')} "
                          f"WHERE commodity LIKE ? GROUP BY 1", [name + "%"])
        assert sorted(got["commodity"]) == [name, name + "\x00"] and (got["n"] == 14).all()
    finally:
        with store.transaction() as con:
            for t in ("distributions", "point_forecasts"):
                con.execute(f"DELETE FROM {qualified(t)} WHERE commodity LIKE ?", [name + "%"])


def test_databricks_sends_values_only_as_parameters(small_store):
    """Every statement the Databricks backend sends, for every operation, with a hostile commodity,
    model and version: the names appear only among the bound parameters, and every parameter binds
    in the real connector."""
    pytest.importorskip("databricks.sql")
    from databricks.sql.parameters.native import dbsql_parameter_from_primitive

    from forecast_assets.storage.databricks_sql import DatabricksSQLStore

    sent: list[tuple[str, list]] = []
    store, batch = small_store
    # An empty answer with unified_data's real columns: the reader checks the columns it gets.
    empty = pa.Table.from_pandas(store.read_unified("no-such-commodity"), preserve_index=False)

    class Cursor:
        def execute(self, text, parameters=None):
            sent.append((text, list(parameters or [])))

        def fetchall_arrow(self):
            return empty

        def close(self):
            pass

    class Conn:
        def cursor(self):
            return Cursor()

        def close(self):
            pass

    db = DatabricksSQLStore("h", "/p", "t", connect=lambda **kw: Conn(), log=lambda _: None)
    name, model, version = HOSTILE[0], HOSTILE[4], HOSTILE[1]
    b = dataclasses.replace(batch, commodity=name, model_name=model)
    db.read_unified(name, start=date(2024, 1, 1), end=date(2024, 1, 31))
    db.forecast_status(name, model, version, date(2024, 1, 1), date(2024, 1, 31))
    db.read_trained_model(name, model, version, date(2024, 1, 1))
    db.write_trained_model({c: None for c in columns("trained_models")} | {
        "commodity": name, "model_name": model, "model_version": version, "window_start": date(2024, 1, 1)})
    db.replace_forecasts(name, model, version, _days(batch), distribution_rows(b, version), point_rows(b, version))
    db.update_actuals(name, pd.DataFrame({"forecast_start_date": [date(2024, 1, 3)] * 14,
                                          "day_ahead": range(1, 15), "actual_close": [1.0] * 14}))
    # the explorer's reads (forecast_assets/explorer), models bound one placeholder each
    db.day_forecasts(name, [model, HOSTILE[2]], version, date(2024, 1, 3), 5, vintages=True,
                     history_from=date(2023, 10, 1))
    db.commodity_performance(name)
    db.commodity_pit(name)
    assert len(sent) >= 10
    for text, params in sent:
        for value in (name, model, version):
            assert value not in text, text
        assert text.count("?") == len(params), text
        for p in params:
            dbsql_parameter_from_primitive(p).as_tspark_param(named=False)
    bound = {p for _, params in sent for p in params}
    assert {name, model, version} <= bound


# -- 4. credentials only from the environment -------------------------------------------------------
SECRET_KEY = re.compile(r"(token|password|passwd|secret|credential|api_?key|access_?key)$", re.IGNORECASE)
SECRET_VALUE = re.compile(r"dapi[0-9a-f]{16,}|AKIA[0-9A-Z]{16}|Bearer\s+\S{8,}|-----BEGIN [A-Z ]*PRIVATE KEY")


def _secret_values(node, path=""):
    """Values of secret-named keys that are not an {env: VAR} reference."""
    if isinstance(node, dict):
        for k, v in node.items():
            here = f"{path}/{k}"
            if SECRET_KEY.search(str(k)) and not (isinstance(v, dict) and set(v) == {"env"}):
                yield here, v
            yield from _secret_values(v, here)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _secret_values(v, f"{path}[{i}]")


def test_config_files_hold_no_secret_values():
    files = [*ROOT.joinpath("deploy").rglob("*.y*ml"), ROOT / "dagster.yaml", ROOT / "workspace.yaml"]
    assert len(files) >= 5
    for f in files:
        text = f.read_text()
        assert not SECRET_VALUE.search(text), f
        doc = yaml.safe_load(text)
        # secrets_to_env_variables entries name a Databricks secret scope and key, never a value.
        for entry in doc.get("secrets_to_env_variables", []) if isinstance(doc, dict) else []:
            assert set(entry) == {"name", "scope", "key"}, (f, entry)
        assert list(_secret_values(doc)) == [], f
    # The walk does find an inline secret.
    assert list(_secret_values({"a": {"databricks_token": "x", "password": {"env": "P"}}})) == [
        ("/a/databricks_token", "x")]


def test_a_databricks_code_location_holds_no_token(monkeypatch):
    """The repository snapshot (what the webserver and daemon store and show, resource config
    included) under FORECAST_ENV=databricks names the token's variable, never its value."""
    pytest.importorskip("dagster_databricks")
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster._serdes import serialize_value

    from forecast_assets.definitions import build_definitions

    canary = "dapi0123456789abcdef0123456789abcdef-canary"
    for k, v in {"FORECAST_ENV": "databricks", "DATABRICKS_HOST": "https://dummy.cloud.databricks.com",
                 "DATABRICKS_TOKEN": canary, "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/dummy"}.items():
        monkeypatch.setenv(k, v)
    defs = build_definitions(Settings.from_env())
    snap = serialize_value(RepositorySnap.from_def(defs.get_repository_def()))
    assert "DATABRICKS_TOKEN" in snap and "databricks_token" in snap
    assert canary not in snap


# -- 5. the UI listens on 127.0.0.1 unless configured -----------------------------------------------
def _make_ui(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FORECAST_UI_")}
    p = subprocess.run(["make", "-n", "-s", "ui", *(f"{k}={v}" for k, v in env.items())], cwd=ROOT, env=clean,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    (line,) = [ln for ln in p.stdout.splitlines() if "scripts/dagster_ui.sh" in ln]  # runs `dagster dev "$@"`
    return line


def test_the_ui_binds_to_localhost_by_default():
    assert re.search(r'dagster -m forecast_assets\.definitions -h "127\.0\.0\.1" -p "3000"$', _make_ui())
    assert re.search(r' -h "0\.0\.0\.0" -p "8080"$', _make_ui(FORECAST_UI_HOST="0.0.0.0", FORECAST_UI_PORT="8080"))
    assert '"$dagster" dev "$@" &' in (ROOT / "scripts" / "dagster_ui.sh").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "FORECAST_UI_HOST" in readme and "127.0.0.1" in readme
