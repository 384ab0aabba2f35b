"""The explorer in a real browser: Debian's chromium driven by selenium (chromedriver), against a real
store filled by the pipeline (conftest). It opens the page, picks a day in the date picker, and checks
that the fan chart's and the table's numbers are the stored ones; screenshots go to
test-artifacts/explorer/ (gitignored). `make browser` installs chromium and chromium-driver."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import numpy as np
import pytest

from forecast_assets.storage.schema import columns, day_columns, qualified
from forecast_assets_tests.explorer.conftest import MODELS, PICKED
from forecast_assets_tests.read_sql import read_sql
from forecast_assets_tests.signals import default_signals

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "explorer"

pytestmark = pytest.mark.slow
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    # make test runs `make browser` first, which installs them; a bare pytest without them says so.
    pytestmark = [pytest.mark.slow, pytest.mark.skip(reason="no /usr/bin/chromium + chromedriver: run `make browser`")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def page_url(explorer_store, explorer_settings, tmp_path_factory):
    """`python -m forecast_assets.explorer` on a free port over the test store, as `make explore` runs it."""
    port = _free_port()
    env = {**os.environ, "FORECAST_DUCKDB_PATH": str(explorer_settings.duckdb_path),
           "FORECAST_EXPLORER_PORT": str(port)}
    log = tmp_path_factory.mktemp("explorer-log") / "explorer.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "forecast_assets.explorer"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, preexec_fn=default_signals)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urlopen(url, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the explorer did not start: {log.read_text()}") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1400,1800",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver, what, condition, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition, message=f"waiting for {what}")


def _traces(driver) -> list[dict]:
    # plotly keeps the traces it drew on the graph's div (_fullData: typed arrays decoded, defaults
    # applied): what the page really shows.
    return driver.execute_script(
        "const g = document.querySelector('#fan-chart .js-plotly-plot');"
        "return g && g._fullData ? g._fullData.map(t => ({meta: t.meta || {}, x: Array.from(t.x || []),"
        " y: Array.from(t.y || [])})) : [];")


def _pick_day(driver, day) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.CSS_SELECTOR, "input#day")  # Dash 4's date picker: its text input
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(day.isoformat(), Keys.ENTER)
    driver.find_element(By.TAG_NAME, "h2").click()  # closes the calendar, as a user clicking away would


def test_a_picked_days_chart_and_table_show_the_stored_numbers(page_url, browser, explorer_store):
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.get(page_url)
    _wait(browser, "the page", lambda d: d.find_elements(By.ID, "day-status"))
    _wait(browser, "the first day's chart", lambda d: any(t["meta"].get("kind") == "median" for t in _traces(d)))
    browser.save_screenshot(str(ARTIFACTS / "01-opened-latest-day.png"))

    _pick_day(browser, PICKED)
    status = browser.find_element(By.ID, "day-status")
    _wait(browser, f"the page of {PICKED}", lambda d: f"forecast of {PICKED}" in status.text)
    _wait(browser, "the chart of the picked day", lambda d: f"forecast of {PICKED}" in (d.execute_script(
        "return document.querySelector('#fan-chart .gtitle')?.textContent") or ""))
    browser.save_screenshot(str(ARTIFACTS / "02-picked-day.png"))

    pts = read_sql(explorer_store, f"SELECT * FROM {qualified('point_forecasts')} WHERE commodity = 'Coffee' "
                                   f"AND forecast_start_date = ? ORDER BY model_name, day_ahead", [PICKED])
    assert set(pts["model_name"]) == set(MODELS) and pts["actual_close"].notna().all()
    traces = _traces(browser)
    by = {(t["meta"].get("kind"), t["meta"].get("model")): t for t in traces}
    sessions = [d.date().isoformat() for d in pts[pts["model_name"] == MODELS[0]]["forecast_date"]]
    for model in MODELS:
        mine = pts[pts["model_name"] == model]
        for kind, col in (("median", "forecast_median"), ("lower_95", "lower_95"), ("upper_95", "upper_95"),
                          ("lower_80", "lower_80"), ("upper_80", "upper_80"), ("lower_50", "lower_50"),
                          ("upper_50", "upper_50")):
            t = by[(kind, model)]
            assert [str(x)[:10] for x in t["x"]] == sessions, (model, kind)
            np.testing.assert_allclose(t["y"], mine[col].to_numpy(), rtol=1e-9, err_msg=f"{model} {kind}")
        drawn = [t["y"] for t in traces if t["meta"] == {"kind": "path", "model": model}]
        stored = read_sql(explorer_store, f"SELECT {', '.join(day_columns(14))} FROM {qualified('distributions')} "
                                          f"WHERE commodity = 'Coffee' AND model_name = ? AND forecast_start_date = ? "
                                          f"AND path_id BETWEEN 1 AND ? ORDER BY path_id", [model, PICKED, len(drawn)])
        assert len(drawn) >= 3
        np.testing.assert_allclose(np.array(drawn), stored.to_numpy(float), rtol=1e-6)
    realized = by[("realized", None)]
    np.testing.assert_allclose(realized["y"], pts[pts["model_name"] == MODELS[0]]["actual_close"].to_numpy())
    history = by[("history", None)]
    cutoff = pts["data_cutoff_date"].max().date().isoformat()
    assert max(str(x)[:10] for x in history["x"]) == cutoff  # the history stops at the cutoff

    for r in pts.itertuples(index=False):
        cell = lambda col: browser.find_element(By.ID, f"step-{r.model_name}-{r.day_ahead}-{col}").text
        assert cell("session") == r.forecast_date.date().isoformat()
        assert cell("median") == f"{r.forecast_median:.2f}"
        assert cell("mean") == f"{r.forecast_mean:.2f}"
        assert cell("band_80") == f"{r.lower_80:.2f} – {r.upper_80:.2f}"
        assert cell("band_95") == f"{r.lower_95:.2f} – {r.upper_95:.2f}"
        assert cell("realized") == f"{r.actual_close:.2f}"
        assert cell("hit_95") == ("hit" if r.lower_95 <= r.actual_close <= r.upper_95 else "miss")
        assert cell("hit_80") == ("hit" if r.lower_80 <= r.actual_close <= r.upper_80 else "miss")

    # The comparison grid is filled and sorts on a click (AG Grid renders rows as .ag-row).
    _wait(browser, "the comparison grid",
          lambda d: len(d.find_elements(By.CSS_SELECTOR, "#comparison-grid .ag-row")) > 0)
    browser.execute_script("document.getElementById('comparison-grid').scrollIntoView()")
    header = browser.find_element(By.CSS_SELECTOR, "#comparison-grid .ag-header-cell[col-id='crps']")
    header.click()
    header.click()  # the second click sorts descending: the worst (longest-horizon) row comes first
    worst = read_sql(explorer_store, f"SELECT MAX(crps) AS m FROM {qualified('model_performance')}")["m"].iloc[0]

    def crps_in_row_order(d):
        cells = d.find_elements(By.CSS_SELECTOR, "#comparison-grid .ag-center-cols-container .ag-row")
        shown = sorted((int(r.get_attribute("row-index")), r.find_element(By.CSS_SELECTOR, "[col-id='crps']").text)
                       for r in cells)
        return [float(v) for _, v in shown if v]

    _wait(browser, "the grid sorted by crps, descending",
          lambda d: (v := crps_in_row_order(d)) and v == sorted(v, reverse=True) and v[0] == round(worst, 4))
    browser.save_screenshot(str(ARTIFACTS / "03-comparison.png"))

    # Everything the page loaded came from the explorer itself: no CDN, no other host.
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(u.startswith(page_url) for u in loaded), [u for u in loaded if not u.startswith(page_url)]
    srcs = browser.execute_script("return [...document.querySelectorAll('script[src],link[href],img[src]')]"
                                  ".map(e => e.src || e.href)")
    assert all(s.startswith(page_url) or s.startswith("data:") for s in srcs), srcs


def test_a_link_opens_its_commodity_day_and_models(page_url, browser):
    from selenium.webdriver.common.by import By

    from forecast_assets.explorer.app import day_link

    day = PICKED.replace(day=PICKED.day + 2)
    browser.get(day_link(page_url, "Coffee", day, ["xgboost"]))
    _wait(browser, "the linked day", lambda d: any(f"forecast of {day}" in e.text
                                                   for e in d.find_elements(By.ID, "day-status")))
    _wait(browser, "the linked model only", lambda d: {t["meta"].get("model") for t in _traces(d)} == {None, "xgboost"})
    assert browser.find_elements(By.ID, "step-xgboost-14-median")
    assert not browser.find_elements(By.ID, "step-naive-1-median")
    browser.save_screenshot(str(ARTIFACTS / "04-linked-day.png"))


def test_a_run_writes_while_the_explorer_serves_the_page(page_url, browser, explorer_settings):
    """The explorer holds the file only for a page's reads (read-only): a writer in another process
    gets it at once, and the page's next reads see what it wrote."""
    from selenium.webdriver.common.by import By

    from forecast_assets.storage.duckdb_store import DuckDBStore

    browser.get(page_url)
    _wait(browser, "the page", lambda d: any("forecast of" in e.text for e in d.find_elements(By.ID, "day-status")))
    writer = DuckDBStore(explorer_settings.duckdb_path, lock_timeout_s=5.0)  # not the 300 s a run would wait
    row = {c: None for c in columns("trained_models")} | {
        "commodity": "Coexist", "model_name": "naive", "model_version": "v1.0", "window_start": PICKED}
    writer.write_trained_model(row)
    try:
        assert writer.read_trained_model("Coexist", "naive", "v1.0", PICKED) is not None
        browser.refresh()  # and the explorer reads again after the write
        _wait(browser, "the page after the write",
              lambda d: any("forecast of" in e.text for e in d.find_elements(By.ID, "day-status")))
    finally:
        with writer.transaction() as con:
            con.execute(f"DELETE FROM {qualified('trained_models')} WHERE commodity = 'Coexist'")
