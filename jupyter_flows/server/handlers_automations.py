"""Events (list, emit) and automations (create, read, update, delete)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..orchestration.automation_schemas import PreviewAutomation, PreviewAutomationResponse
from ..orchestration.schemas import (
    CreateAutomation,
    CreateEvent,
    DescribeAutomation,
    DescribeEvent,
    ListAutomationsResponse,
    ListEventsQuery,
    ListEventsResponse,
    UpdateAutomation,
)
from .handlers import FlowsAPIHandler
from .openapi import doc

__all__ = ["ROUTES"]


class AutomationsHandler(FlowsAPIHandler):
    @doc("List automations", ListAutomationsResponse)
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.blocking(self.services.orchestration.list_automations))

    @doc("Create an automation", DescribeAutomation, body=CreateAutomation, status=201,
         action="execute")  # fmt: skip
    @web.authenticated
    @authorized(action="execute")  # it arms runs of deployments
    async def post(self) -> None:
        body = self.body(CreateAutomation)
        created = await self.blocking(self.services.orchestration.create_automation, body)
        self.reply(created, status=201)


class AutomationPreviewHandler(FlowsAPIHandler):
    @doc(
        "What a draft automation's trigger would have fired on over the stored events of the"
        " last `hours` (default 24); nothing is saved or done",
        PreviewAutomationResponse,
        body=PreviewAutomation,
        action="read",
    )
    @web.authenticated
    @authorized(action="read")  # computes over stored events, changes nothing
    async def post(self) -> None:
        body = self.body(PreviewAutomation)
        self.reply(await self.blocking(self.services.orchestration.preview_automation, body))


class AutomationHandler(FlowsAPIHandler):
    @doc("An automation, by id or name", DescribeAutomation)
    @web.authenticated
    @authorized
    async def get(self, automation_id: str) -> None:
        service = self.services.orchestration
        self.reply(await self.blocking(service.read_automation, automation_id))

    @doc(
        "Update (enable, disable, change) an automation",
        DescribeAutomation,
        body=UpdateAutomation,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def patch(self, automation_id: str) -> None:
        body = self.body(UpdateAutomation)
        service = self.services.orchestration
        self.reply(await self.blocking(service.update_automation, automation_id, body))

    @doc("Delete an automation", status=204)
    @web.authenticated
    @authorized
    async def delete(self, automation_id: str) -> None:
        await self.blocking(self.services.orchestration.delete_automation, automation_id)
        self.no_content()


class EventsHandler(FlowsAPIHandler):
    @doc("Events, newest first (with after_id: the ones after it, oldest first)",
         ListEventsResponse, query=ListEventsQuery)  # fmt: skip
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListEventsQuery)
        self.reply(await self.blocking(self.services.orchestration.list_events, query))

    @doc("Emit an event (automations whose trigger matches it fire)", DescribeEvent,
         body=CreateEvent, status=201, action="execute")  # fmt: skip
    @web.authenticated
    @authorized(action="execute")  # it may start runs
    async def post(self) -> None:
        body = self.body(CreateEvent)
        self.reply(await self.blocking(self.services.orchestration.emit_event, body), status=201)


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("automations", AutomationsHandler),
    ("automations/preview", AutomationPreviewHandler),  # before automations/{automation_id}
    ("automations/{automation_id}", AutomationHandler),
    ("events", EventsHandler),
]
