"""Where ``Block`` saves and loads its documents: the database, or the server.

In a process with the run database (a kernel, a script, a worker given
``JUPYTER_FLOWS_DB_URL``) documents are read and written there, encrypted with the key file
of ``store.encryption`` (which that process must be able to read). In a run process of a
remote worker that records over HTTP (``RunEnvironment.records_over_http``) they go through
the server with the run's token, which may read a document, decrypted, but not write one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..client.http import FlowsClient

__all__ = ["save", "read", "delete"]


def _server() -> FlowsClient | None:
    from ..core.run_environment import RunEnvironment

    env = RunEnvironment.current()
    if not env.records_over_http():
        return None
    from ..client.http import FlowsClient

    return FlowsClient(str(env.record_url), env.record_token or "", timeout=10)


def _engine() -> Any:
    from ..store.api import run_store

    return run_store().engine


def _exists(slug: str, name: str) -> ValueError:
    return ValueError(
        f"You are attempting to save values with a name that is already in use for this "
        f"block type ({slug}/{name}). To overwrite the values that are saved, save with "
        "`overwrite=True`."
    )


def _refused(verb: str, slug: str, name: str, exc: Exception) -> PermissionError:
    return PermissionError(
        f"{verb} block document {slug}/{name}: this run process reaches the server with its "
        "run's token, which may load blocks but not save or delete them; do that from the "
        f"CLI, the REST API or a process with the database ({exc})"
    )


def save(
    slug: str, name: str, data: dict[str, Any], secret_fields: list[str], overwrite: bool
) -> str:
    """Save the document; its id. ``ValueError`` if it exists and not ``overwrite``."""
    from ..client.http import AuthError, ClientError, StateConflict
    from ..exceptions import Conflict

    server = _server()
    if server is None:
        from ..orchestration.blocks import save_block_document

        try:
            found, _ = save_block_document(_engine(), slug, name, data, secret_fields, overwrite)
        except Conflict:
            raise _exists(slug, name) from None
        return found.id
    try:
        return server.save_block_document(slug, name, data, secret_fields, overwrite).id
    except StateConflict:
        raise _exists(slug, name) from None
    except AuthError as exc:
        raise _refused("save", slug, name, exc) from None
    except ClientError as exc:
        if exc.status == 400:
            raise ValueError(str(exc)) from None
        raise


def read(slug: str, name: str) -> tuple[str, dict[str, Any]] | None:
    """The document's id and data, secrets included; ``None`` if there is none."""
    from ..client.http import ClientError
    from ..exceptions import NotFound

    server = _server()
    try:
        if server is None:
            from ..orchestration.blocks import read_block_document

            found = read_block_document(_engine(), slug, name, include_secrets=True)
        else:
            found = server.read_block_document(slug, name, include_secrets=True)
    except NotFound:
        return None
    except ClientError as exc:
        if exc.status == 404:
            return None
        raise
    return found.id, found.data


def delete(slug: str, name: str) -> bool:
    """Delete the document: whether it existed."""
    from ..client.http import AuthError, ClientError
    from ..exceptions import NotFound

    server = _server()
    try:
        if server is None:
            from ..orchestration.blocks import delete_block_document

            delete_block_document(_engine(), slug, name)
        else:
            server.delete_block_document(slug, name)
    except NotFound:
        return False
    except AuthError as exc:
        raise _refused("delete", slug, name, exc) from None
    except ClientError as exc:
        if exc.status == 404:
            return False
        raise
    return True
