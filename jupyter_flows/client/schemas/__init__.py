"""Prefect's ``prefect.client.schemas`` paths (for type hints of hooks)."""
