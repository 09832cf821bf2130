"""The orchestration fixtures (a service over a real database, with a project root)."""

from tests.orchestration.conftest import root, service

__all__ = ["root", "service"]
