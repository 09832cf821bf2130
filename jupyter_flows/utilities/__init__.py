"""Prefect's ``prefect.utilities`` paths."""
