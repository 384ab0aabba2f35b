"""The forecasting core: data preparation, models, path simulation, scoring. No Dagster here."""
