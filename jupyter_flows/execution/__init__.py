"""Execution back-ends: Dask task runner, papermill notebook runs."""
