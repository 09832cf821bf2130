"""Concurrency limits (list, create, read, update, reset, delete) and their slot leases.

Reading is ``read``; creating, changing, resetting and deleting limits is ``write``, and so
is taking, renewing and giving back slots (``concurrency_leases``): it changes what others
may run, but runs nothing. A run's token may take, renew and release slots (what
``concurrency()`` and task tag limits call in a run process of a remote worker) and nothing
else here (``scoped_auth.SCOPED_ROUTES``).
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..orchestration.concurrency_schemas import (
    AcquireSlots,
    CreateConcurrencyLimit,
    DescribeConcurrencyLimit,
    DescribeSlotLease,
    ListConcurrencyLimitsQuery,
    ListConcurrencyLimitsResponse,
    RenewLease,
    UpdateConcurrencyLimit,
)
from .handlers import FlowsAPIHandler
from .openapi import doc

__all__ = ["ROUTES"]


class ConcurrencyLimitsHandler(FlowsAPIHandler):
    @doc("Concurrency limits by name, with who holds their slots", ListConcurrencyLimitsResponse,
         query=ListConcurrencyLimitsQuery)  # fmt: skip
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListConcurrencyLimitsQuery)
        service = self.services.orchestration
        self.reply(await self.blocking(service.list_concurrency_limits, query))

    @doc("Create a concurrency limit (409 if one has the name)", DescribeConcurrencyLimit,
         body=CreateConcurrencyLimit, status=201)  # fmt: skip
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body(CreateConcurrencyLimit)
        service = self.services.orchestration
        self.reply(await self.blocking(service.create_concurrency_limit, body), status=201)


class ConcurrencyLimitHandler(FlowsAPIHandler):
    @doc("A concurrency limit, with who holds its slots", DescribeConcurrencyLimit)
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        service = self.services.orchestration
        self.reply(await self.blocking(service.read_concurrency_limit, name))

    @doc("Change a concurrency limit", DescribeConcurrencyLimit, body=UpdateConcurrencyLimit)
    @web.authenticated
    @authorized
    async def patch(self, name: str) -> None:
        body = self.body(UpdateConcurrencyLimit)
        service = self.services.orchestration
        self.reply(await self.blocking(service.update_concurrency_limit, name, body))

    @doc("Delete a concurrency limit and its leases", status=204)
    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await self.blocking(self.services.orchestration.delete_concurrency_limit, name)
        self.no_content()


class ConcurrencyLimitResetHandler(FlowsAPIHandler):
    @doc("Free every slot of a limit: its holders' leases end", DescribeConcurrencyLimit)
    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        service = self.services.orchestration
        self.reply(await self.blocking(service.reset_concurrency_limit, name))


class ConcurrencyLeasesHandler(FlowsAPIHandler):
    @doc("One attempt to take slots of every named limit, all or none (a denial is "
         "acquired: false)", DescribeSlotLease, body=AcquireSlots)  # fmt: skip
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body(AcquireSlots)
        self.reply(await self.blocking(self.services.orchestration.acquire_slots, body))


class ConcurrencyLeaseHandler(FlowsAPIHandler):
    @doc("Give a lease's slots back (204 also if it is gone)", status=204)
    @web.authenticated
    @authorized
    async def delete(self, lease_id: str) -> None:
        await self.blocking(self.services.orchestration.release_lease, lease_id)
        self.no_content()


class ConcurrencyLeaseRenewHandler(FlowsAPIHandler):
    @doc("Extend a lease (404 if it expired and its slots were taken back)", body=RenewLease,
         status=204)  # fmt: skip
    @web.authenticated
    @authorized
    async def post(self, lease_id: str) -> None:
        body = self.body(RenewLease)
        await self.blocking(self.services.orchestration.renew_lease, lease_id, body)
        self.no_content()


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("concurrency_limits", ConcurrencyLimitsHandler),
    ("concurrency_limits/{name}", ConcurrencyLimitHandler),
    ("concurrency_limits/{name}/reset", ConcurrencyLimitResetHandler),
    ("concurrency_leases", ConcurrencyLeasesHandler),
    ("concurrency_leases/{lease_id}", ConcurrencyLeaseHandler),
    ("concurrency_leases/{lease_id}/renew", ConcurrencyLeaseRenewHandler),
]
