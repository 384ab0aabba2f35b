"""Reusable Dagster infrastructure that holds no forecasting logic."""
