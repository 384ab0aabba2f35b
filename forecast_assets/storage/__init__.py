"""Table storage behind one small interface (base.ForecastStore); DuckDB is the embedded default."""
