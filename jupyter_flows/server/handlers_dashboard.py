"""The dashboard: the aggregates of a time window in one read (``orchestration.dashboard``)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..orchestration.dashboard import read_dashboard
from ..orchestration.dashboard_schemas import DescribeDashboard, ReadDashboardQuery
from .handlers import FlowsAPIHandler
from .openapi import doc

__all__ = ["ROUTES"]


class DashboardHandler(FlowsAPIHandler):
    @doc(
        "Runs over time by state, failure rates and durations per flow and deployment, late "
        "runs, work pools and workers, the last failures, of the window [since, until)",
        DescribeDashboard,
        query=ReadDashboardQuery,
    )
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ReadDashboardQuery)
        timeout = self.services.orchestration.heartbeat_timeout
        self.reply(await self.blocking(read_dashboard, self.services.engine, query, timeout))


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [("dashboard", DashboardHandler)]
