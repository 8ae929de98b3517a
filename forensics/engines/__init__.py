"""Engines other than DuckDB that run the catalogue (Spark over a Parquet lake)."""
