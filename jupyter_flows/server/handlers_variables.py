"""Variables (list, read, set, delete): named JSON values flows read (Prefect's ``Variable``).

Reading is ``read``, setting and deleting ``write`` (Jupyter's defaults for the verbs). A run's
token may read one variable (``GET variables/{name}``, what ``Variable.get`` calls) and
nothing else here (``scoped_auth.SCOPED_ROUTES``).
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..orchestration.variable_schemas import (
    DescribeVariable,
    ListVariablesQuery,
    ListVariablesResponse,
    SetVariable,
)
from .handlers import FlowsAPIHandler
from .openapi import doc

__all__ = ["ROUTES"]


class VariablesHandler(FlowsAPIHandler):
    @doc("Variables by name (with a tag, names starting with a prefix)", ListVariablesResponse,
         query=ListVariablesQuery)  # fmt: skip
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListVariablesQuery)
        self.reply(await self.blocking(self.services.orchestration.list_variables, query))


class VariableHandler(FlowsAPIHandler):
    @doc("A variable, by name", DescribeVariable)
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(await self.blocking(self.services.orchestration.read_variable, name))

    @doc(
        "Set a variable (201 created, 200 overwritten; 409 if it exists, overwrite false)",
        DescribeVariable,
        body=SetVariable,
        status=201,
        other_statuses=(200,),
    )
    @web.authenticated
    @authorized
    async def put(self, name: str) -> None:
        body = self.body(SetVariable)
        service = self.services.orchestration
        variable, created = await self.blocking(service.set_variable, name, body)
        self.reply(variable, status=201 if created else 200)

    @doc("Delete a variable (404 if there is none)", status=204)
    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await self.blocking(self.services.orchestration.delete_variable, name)
        self.no_content()


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("variables", VariablesHandler),
    ("variables/{name}", VariableHandler),
]
