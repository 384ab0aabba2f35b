"""The forecast explorer: a local web page (Dash) over the store, read-only.

queries.py reads a day's forecasts and a commodity's comparison through the storage interface,
figures.py turns them into plotly figures, tables.py into the rows of the page's tables, app.py lays
out the page; `python -m forecast_assets.explorer` (`make explore`) serves it on 127.0.0.1.
"""
