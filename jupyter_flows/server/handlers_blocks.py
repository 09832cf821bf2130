"""Block documents (list, read, save, delete): the saved values of blocks and secrets.

Listing and reading are ``read`` and show secret fields masked; ``?include_secrets=true``
shows them, and needs ``write`` as well (a user who may change a secret may see it: 403
otherwise). Saving and deleting are ``write``. A run's token may read one document by name,
decrypted (``GET block_documents/{slug}/{name}``, what ``Block.load`` calls in a remote run
process), and nothing else here (``scoped_auth.SCOPED_ROUTES``).
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import ensure_async
from tornado import web

from ..orchestration.block_schemas import (
    DescribeBlockDocument,
    ListBlockDocumentsQuery,
    ListBlockDocumentsResponse,
    ReadBlockDocumentQuery,
    SaveBlockDocument,
)
from .handlers import AUTH_RESOURCE, FlowsAPIHandler
from .openapi import doc

__all__ = ["ROUTES", "SECRETS_ACTION"]

#: what a user needs besides ``read`` to see secret values (``include_secrets``)
SECRETS_ACTION = "write"


class BlockDocumentsHandler(FlowsAPIHandler):
    @doc("Block documents by block type and name (secret fields masked)",
         ListBlockDocumentsResponse, query=ListBlockDocumentsQuery)  # fmt: skip
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListBlockDocumentsQuery)
        service = self.services.orchestration
        self.reply(await self.blocking(service.list_block_documents, query))


class BlockDocumentHandler(FlowsAPIHandler):
    @doc(
        "A block document (secret fields masked; include_secrets=true needs 'write' too)",
        DescribeBlockDocument,
        query=ReadBlockDocumentQuery,
    )
    @web.authenticated
    @authorized
    async def get(self, slug: str, name: str) -> None:
        query = self.query(ReadBlockDocumentQuery)
        if query.include_secrets:
            await self._may_see_secrets()
        service = self.services.orchestration
        found = await self.blocking(service.read_block_document, slug, name, query.include_secrets)
        self.reply(found)

    async def _may_see_secrets(self) -> None:
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, SECRETS_ACTION, AUTH_RESOURCE)
        )
        if not allowed:
            message = (
                f"reading secret values (include_secrets) needs the '{SECRETS_ACTION}' "
                f"permission on {AUTH_RESOURCE}; without it, read the document masked"
            )
            raise web.HTTPError(403, message, reason=message)

    @doc(
        "Save a block document (201 created, 200 overwritten; 409 if it exists, overwrite false)",
        DescribeBlockDocument,
        body=SaveBlockDocument,
        status=201,
        other_statuses=(200,),
    )
    @web.authenticated
    @authorized
    async def put(self, slug: str, name: str) -> None:
        body = self.body(SaveBlockDocument)
        service = self.services.orchestration
        found, created = await self.blocking(service.save_block_document, slug, name, body)
        self.reply(found, status=201 if created else 200)

    @doc("Delete a block document (404 if there is none)", status=204)
    @web.authenticated
    @authorized
    async def delete(self, slug: str, name: str) -> None:
        await self.blocking(self.services.orchestration.delete_block_document, slug, name)
        self.no_content()


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("block_documents", BlockDocumentsHandler),
    ("block_documents/{slug}/{name}", BlockDocumentHandler),
]
