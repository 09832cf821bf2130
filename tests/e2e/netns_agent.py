"""Run by ``netns.Host.agent`` inside a host: answers one JSON request per stdin line.

``{"kind": "http", "method", "url", "token", "body"}`` -> ``[status, JSON body]`` (status 0:
unreachable); ``{"kind": "sql", "dsn", "query"}`` -> the rows. Stdlib and psycopg only.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any


def http(method: str, url: str, token: str | None, body: Any) -> list[Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return [response.status, json.loads(response.read() or b"null")]
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return [exc.code, json.loads(text or b"null")]
        except ValueError:
            return [exc.code, text.decode(errors="replace")]
    except OSError as exc:
        return [0, str(exc)]


def sql(dsn: str, query: str) -> list[list[Any]]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        cursor = conn.execute(query)
        return [list(row) for row in cursor.fetchall()] if cursor.description else []


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["kind"] == "http":
                result: Any = http(
                    request["method"], request["url"], request["token"], request["body"]
                )
            else:
                result = sql(request["dsn"], request["query"])
            reply = {"result": result}
        except Exception as exc:  # noqa: BLE001 - reported to the test
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
