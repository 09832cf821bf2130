"""Request and response models of concurrency limits and their slot leases, named by verb.

A limit's name is Prefect's: 1 to ``MAX_LIMIT_NAME_LENGTH`` characters, none of
``/ % & > <``, no control character, not blank. Task tag limits are the limits named
``tag:TAG`` (``TAG_PREFIX``), as Prefect 3 keeps them since 3.4.19.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..store.limits import INT_MAX, DbBigInt, storable_text

__all__ = [
    "MAX_LIMIT_NAME_LENGTH",
    "MAX_LEASE_SECONDS",
    "TAG_PREFIX",
    "LimitName",
    "check_limit_name",
    "tag_limit_name",
    "LeaseHolder",
    "CreateConcurrencyLimit",
    "UpdateConcurrencyLimit",
    "DescribeSlotHolder",
    "DescribeConcurrencyLimit",
    "ListConcurrencyLimitsQuery",
    "ListConcurrencyLimitsResponse",
    "AcquireSlots",
    "DescribeSlotLease",
    "RenewLease",
]

MAX_LIMIT_NAME_LENGTH = 255
#: a lease lasts at most a day between renewals
MAX_LEASE_SECONDS = 24 * 3600.0
#: the names of task tag limits: ``tag:db`` limits the task runs tagged ``db``
TAG_PREFIX = "tag:"
_BANNED = re.compile(r"[/%&><\x00-\x1f\x7f]")


def check_limit_name(name: str, field: str = "name") -> str:
    """``name`` if a concurrency limit may have it; ``ValueError`` naming ``field``."""
    if not isinstance(name, str):
        raise ValueError(f"{field}: a limit name is text, got {type(name).__name__}")
    if not 1 <= len(name) <= MAX_LIMIT_NAME_LENGTH or not name.strip():
        raise ValueError(
            f"{field}: a limit name has 1 to {MAX_LIMIT_NAME_LENGTH} characters, not all "
            f"blank (got {len(name)})"
        )
    bad = _BANNED.search(name)
    if bad:
        raise ValueError(
            f"{field}: a limit name may not contain / % & > < or control characters "
            f"(got {bad.group()!r} in {name[:80]!r})"
        )
    storable_text(name)
    return name


def tag_limit_name(tag: str) -> str:
    """The global limit of task tag ``tag``: ``tag:<tag>``."""
    return TAG_PREFIX + tag


def _checked(value: str) -> str:
    try:
        return check_limit_name(value)
    except ValueError as exc:  # pydantic names the field already
        raise ValueError(str(exc).removeprefix("name: ")) from None


LimitName = Annotated[str, Field(max_length=MAX_LIMIT_NAME_LENGTH), AfterValidator(_checked)]
Slots = Annotated[int, Field(ge=0, le=INT_MAX)]
Decay = Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)]


class LeaseHolder(BaseModel):
    """Who holds slots (Prefect's ``ConcurrencyLeaseHolder``): a task run, a flow run, a
    deployment, or a process (``host:pid``)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["task_run", "flow_run", "deployment", "process"]
    id: Annotated[str, Field(min_length=1, max_length=255), AfterValidator(storable_text)]
    name: Annotated[str, Field(max_length=255), AfterValidator(storable_text)] | None = None


class CreateConcurrencyLimit(BaseModel):
    """The body of ``POST concurrency_limits``."""

    model_config = ConfigDict(extra="forbid")

    name: LimitName
    limit: Slots = Field(description="slots that may be held at once (0: none)")
    active: bool = Field(default=True, description="an inactive limit admits everyone")
    active_slots: Slots = 0
    denied_slots: Slots = 0
    slot_decay_per_second: Decay = Field(
        default=0.0, description="slots freed per second without release (a rate limit)"
    )


class UpdateConcurrencyLimit(BaseModel):
    """The body of ``PATCH concurrency_limits/{name}``: the fields to change."""

    model_config = ConfigDict(extra="forbid")

    limit: Slots | None = None
    active: bool | None = None
    active_slots: Slots | None = None
    denied_slots: Slots | None = None
    slot_decay_per_second: Decay | None = None


class DescribeSlotHolder(BaseModel):
    """Slots of a limit held under one lease: by whom, since when, until when."""

    lease_id: str
    holder: LeaseHolder
    slots: int
    since: datetime
    expires: datetime


class DescribeConcurrencyLimit(BaseModel):
    name: str
    limit: int
    active: bool
    active_slots: int = Field(description="held now (after decay, expired leases not counted)")
    denied_slots: int
    slot_decay_per_second: float
    holders: list[DescribeSlotHolder] = Field(default_factory=list)
    created: datetime
    updated: datetime


class ListConcurrencyLimitsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prefix: Annotated[str, Field(max_length=MAX_LIMIT_NAME_LENGTH)] | None = Field(
        default=None, description="only names starting with this (tag limits: 'tag:')"
    )
    limit: int = Field(default=100, ge=1, le=1000)
    offset: Annotated[DbBigInt, Field(ge=0)] = 0


class ListConcurrencyLimitsResponse(BaseModel):
    items: list[DescribeConcurrencyLimit]
    total: int


class AcquireSlots(BaseModel):
    """The body of ``POST concurrency_leases``: take ``slots`` of every named limit, or none."""

    model_config = ConfigDict(extra="forbid")

    names: Annotated[list[LimitName], Field(min_length=1, max_length=100)]
    slots: Annotated[int, Field(ge=1, le=INT_MAX)] = 1
    mode: Literal["concurrency", "rate_limit"] = "concurrency"
    lease_duration: Annotated[float, Field(gt=0, le=MAX_LEASE_SECONDS)] = 300.0
    holder: LeaseHolder


class DescribeSlotLease(BaseModel):
    """The outcome of one acquisition attempt (a denial is an answer, not an error)."""

    acquired: bool
    lease_id: str | None = Field(
        default=None, description="to renew and release; none for a rate limit or no limit"
    )
    limits: list[str] = Field(
        default_factory=list, description="the named limits that exist (others are skipped)"
    )
    retry_after: float | None = Field(
        default=None, description="when denied: seconds until a decaying limit has room"
    )


class RenewLease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lease_duration: Annotated[float, Field(gt=0, le=MAX_LEASE_SECONDS)] = 300.0
