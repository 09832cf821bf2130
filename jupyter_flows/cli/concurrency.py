"""``jupyter flows gcl ...`` and ``jupyter flows concurrency-limit ...``: Prefect's
``prefect gcl`` (global concurrency limits) and ``prefect concurrency-limit`` (task tag
limits, the global limits named ``tag:TAG``), over REST."""

from __future__ import annotations

from typing import Any

from traitlets import Float, Int, Unicode

from ..orchestration.concurrency_schemas import TAG_PREFIX, DescribeConcurrencyLimit
from .orchestration import _aliases, _ServerApp

__all__ = ["GlobalConcurrencyLimitApp", "TagConcurrencyLimitApp", "show_limit"]


def _row(limit: DescribeConcurrencyLimit, name: str | None = None) -> str:
    state = "active" if limit.active else "inactive"
    decay = f" decay={limit.slot_decay_per_second:g}/s" if limit.slot_decay_per_second else ""
    return (
        f"{name or limit.name:<24} {limit.active_slots}/{limit.limit} slots  {state}"
        f"{decay}  holders={len(limit.holders)}"
    )


def show_limit(limit: DescribeConcurrencyLimit) -> str:
    """A limit and who holds its slots, for ``inspect``."""
    lines = [
        f"name:                  {limit.name}",
        f"limit:                 {limit.limit}",
        f"active:                {str(limit.active).lower()}",
        f"active slots:          {limit.active_slots}",
        f"denied slots:          {limit.denied_slots}",
        f"slot decay per second: {limit.slot_decay_per_second:g}",
        f"created:               {limit.created.isoformat(timespec='seconds')}",
        f"updated:               {limit.updated.isoformat(timespec='seconds')}",
        f"holders:               {len(limit.holders) or 'none'}",
    ]
    for h in limit.holders:
        who = f"{h.holder.type} {h.holder.name or h.holder.id}"
        lines.append(
            f"  {who:<40} {h.slots} slot(s) since {h.since.isoformat(timespec='seconds')}, "
            f"lease until {h.expires.isoformat(timespec='seconds')}"
        )
    return "\n".join(lines)


class GlobalConcurrencyLimitApp(_ServerApp):
    """Create, list, inspect, update, enable, disable or remove global concurrency limits."""

    name = "jupyter-flows-gcl"
    description = (
        "Global concurrency limits: at most LIMIT slots held at once by "
        "jupyter_flows.concurrency.sync.concurrency(NAME) blocks, across processes and "
        "machines; with --slot-decay-per-second a rate limit for rate_limit(NAME)."
    )
    examples = """jupyter flows gcl create database --limit 10
jupyter flows gcl create api --limit 5 --slot-decay-per-second 1
jupyter flows gcl ls
jupyter flows gcl inspect database
jupyter flows gcl update database --limit 20
jupyter flows gcl disable database
jupyter flows gcl enable database
jupyter flows gcl rm database
"""
    limit = Int(-1, config=True, help="create/update: slots that may be held at once.")
    slot_decay_per_second = Float(
        -1.0, config=True, help="create/update: slots freed per second (a rate limit)."
    )
    active_slots = Int(-1, config=True, help="update: set the slots held now.")
    active = Unicode("", config=True, help="create/update: 'false' to disable.")
    aliases = _aliases(
        "GlobalConcurrencyLimitApp",
        limit="GlobalConcurrencyLimitApp.limit",
        **{
            "slot-decay-per-second": "GlobalConcurrencyLimitApp.slot_decay_per_second",
            "active-slots": "GlobalConcurrencyLimitApp.active_slots",
        },
    )
    flags = {
        "disable": ({"GlobalConcurrencyLimitApp": {"active": "false"}}, "create/update: inactive."),
        "enable": ({"GlobalConcurrencyLimitApp": {"active": "true"}}, "update: active again."),
    }
    _usage = (
        "usage: jupyter flows gcl create NAME --limit N [--slot-decay-per-second X] "
        "[--disable] | ls | inspect NAME | update NAME [--limit N] [--active-slots N] "
        "[--slot-decay-per-second X] [--enable|--disable] | enable NAME | disable NAME | rm NAME"
    )

    def _fields(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.limit != -1:
            body["limit"] = self.limit
        if self.slot_decay_per_second != -1.0:
            body["slot_decay_per_second"] = self.slot_decay_per_second
        if self.active_slots != -1:
            body["active_slots"] = self.active_slots
        if self.active:
            body["active"] = self.active == "true"
        return body

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        client = self.client()
        if action == "ls" and not rest:
            for limit in self.call(client.read_concurrency_limits, None, 1000):
                print(_row(limit))
        elif action == "create" and len(rest) == 1:
            if self.limit == -1:
                self.fail("create needs --limit N", 2)
            made = self.call(client.create_concurrency_limit, {"name": rest[0], **self._fields()})
            print(f"created {_row(made)}")
        elif action == "inspect" and len(rest) == 1:
            print(show_limit(self.call(client.read_concurrency_limit, rest[0])))
        elif action in ("update", "enable", "disable") and len(rest) == 1:
            body = self._fields()
            if action != "update":
                body["active"] = action == "enable"
            if not body:
                self.fail("update needs one of --limit, --active-slots, "
                          "--slot-decay-per-second, --enable, --disable", 2)  # fmt: skip
            print(f"updated {_row(self.call(client.update_concurrency_limit, rest[0], body))}")
        elif action in ("rm", "delete") and len(rest) == 1:
            self.call(client.delete_concurrency_limit, rest[0])
            print(f"removed {rest[0]}")
        else:
            self.fail(self._usage, 2)


class TagConcurrencyLimitApp(_ServerApp):
    """Create, list, inspect, reset or remove task tag concurrency limits."""

    name = "jupyter-flows-concurrency-limit"
    description = (
        "Task tag limits (Prefect's tag-based concurrency): at most N task runs tagged TAG "
        "run at once; the others wait in AwaitingConcurrencySlot. A limit of 0 fails the "
        "task runs at once. Kept as the global limit named tag:TAG."
    )
    examples = """jupyter flows concurrency-limit create database 10
jupyter flows concurrency-limit ls
jupyter flows concurrency-limit inspect database
jupyter flows concurrency-limit reset database
jupyter flows concurrency-limit rm database
"""
    aliases = _aliases("TagConcurrencyLimitApp")
    _usage = (
        "usage: jupyter flows concurrency-limit create TAG N | ls | inspect TAG | reset TAG | "
        "rm TAG"
    )

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        client = self.client()
        if action == "ls" and not rest:
            for limit in self.call(client.read_concurrency_limits, TAG_PREFIX, 1000):
                print(_row(limit, limit.name.removeprefix(TAG_PREFIX)))
            return
        if action == "create" and len(rest) == 2:
            try:
                slots = int(rest[1])
            except ValueError:
                self.fail(f"N: a whole number of slots, got {rest[1]!r}", 2)
            body = {"name": TAG_PREFIX + rest[0], "limit": slots}
            made = self.call(client.create_concurrency_limit, body)
            print(f"created tag limit {_row(made, rest[0])}")
        elif action == "inspect" and len(rest) == 1:
            print(show_limit(self.call(client.read_concurrency_limit, TAG_PREFIX + rest[0])))
        elif action == "reset" and len(rest) == 1:
            self.call(client.reset_concurrency_limit, TAG_PREFIX + rest[0])
            print(f"reset {rest[0]}: no slots held")
        elif action in ("rm", "delete") and len(rest) == 1:
            self.call(client.delete_concurrency_limit, TAG_PREFIX + rest[0])
            print(f"removed tag limit {rest[0]}")
        else:
            self.fail(self._usage, 2)
