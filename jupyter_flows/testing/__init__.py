"""Prefect's ``prefect.testing``: helpers for testing flows (see ``testing.utilities``)."""

from __future__ import annotations

from .utilities import jupyter_flows_test_harness, prefect_test_harness

__all__ = ["jupyter_flows_test_harness", "prefect_test_harness"]
