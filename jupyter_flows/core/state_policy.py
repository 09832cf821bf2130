"""The one state-transition policy: may a run in one state enter a proposed state?

Every writer asks this table before a state is recorded: the in-process engine's recorder,
records posted by run processes without database access, workers, and the server's own
services (claims, cancellation, crash detection). As in Prefect's orchestration rules, a
proposal is *accepted* (recorded), *ignored* (the run is already there: nothing is
recorded, the proposer goes on) or *rejected* (the run ended, or is being cancelled,
elsewhere: nothing is recorded and the proposer must stop). No writer ever moves a run out
of a final state.

Pure and table-driven: plain strings and ``StateType`` values, no SQL. The store derives
its SQL guards from ``allowed_pairs()``; the side panel's TypeScript copy of the state groups
is generated from ``state_groups()``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .states import StateType

__all__ = [
    "Decision",
    "Verdict",
    "FINAL",
    "FINAL_VALUES",
    "ACTIVE",
    "HELD",
    "ACCEPTED",
    "propose",
    "allowed_pairs",
    "must_stop",
    "state_groups",
]

_T = StateType

#: A run in one of these states never changes state again.
FINAL: frozenset[StateType] = frozenset({_T.COMPLETED, _T.FAILED, _T.CANCELLED, _T.CRASHED})
#: The same, as the strings the tables and the REST API carry.
FINAL_VALUES: frozenset[str] = frozenset(t.value for t in FINAL)
#: Held by a worker or a process: it must keep heart-beating or it ends Crashed.
ACTIVE: frozenset[StateType] = frozenset({_T.PENDING, _T.RUNNING, _T.CANCELLING})
#: Started and not yet final (what a cancellation or a crash ends along with its flow run).
HELD: frozenset[StateType] = frozenset(
    {_T.SCHEDULED, _T.PENDING, _T.RUNNING, _T.PAUSED, _T.CANCELLING}
)


class Decision(str, enum.Enum):
    """What becomes of a proposed state."""

    ACCEPT = "accept"
    IGNORE = "ignore"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The policy's answer to one proposal, with the reason when it is not accepted."""

    decision: Decision
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.decision is Decision.ACCEPT


_EVERYTHING = frozenset(StateType)
#: Proposed types accepted from each current type (``None``: the run has no state yet).
_ACCEPTS: dict[StateType | None, frozenset[StateType]] = {
    None: _EVERYTHING,
    _T.SCHEDULED: _EVERYTHING,
    _T.PENDING: _EVERYTHING - {_T.PENDING},
    _T.RUNNING: _EVERYTHING - {_T.PENDING},
    _T.PAUSED: _EVERYTHING - {_T.PAUSED},
    _T.CANCELLING: FINAL,
}
#: Proposals that are not accepted and not an error: the run is already there or past it.
_IGNORES: dict[StateType, frozenset[StateType]] = {
    _T.PENDING: frozenset({_T.PENDING}),
    _T.RUNNING: frozenset({_T.PENDING}),
    _T.PAUSED: frozenset({_T.PAUSED}),
    _T.CANCELLING: frozenset({_T.CANCELLING}),
}
_ACCEPT = Verdict(Decision.ACCEPT)
#: Every accepted ``(current, proposed)`` type pair (before the same-name rule): a fast path.
ACCEPTED: frozenset[tuple[StateType | None, StateType]] = frozenset(
    (current, proposed) for current, targets in _ACCEPTS.items() for proposed in targets
)


def propose(
    current: StateType | None,
    proposed: StateType,
    current_name: str | None = None,
    proposed_name: str | None = None,
) -> Verdict:
    """The verdict on moving a run from ``current`` to ``proposed``.

    Names refine types: the same non-final state proposed again (same type and name, e.g.
    ``Running`` twice from a notebook kernel and its worker) is ignored, while ``Retrying``
    after ``Running`` is a new state.
    """
    if current is None:
        return _ACCEPT
    if current in FINAL:
        return Verdict(Decision.REJECT, f"the run already ended {current_name or current.value}")
    if proposed in _ACCEPTS[current]:
        if proposed is current and proposed_name is not None and proposed_name == current_name:
            return Verdict(Decision.IGNORE, f"the run is already {current_name}")
        return _ACCEPT
    if proposed in _IGNORES.get(current, frozenset()):
        return Verdict(Decision.IGNORE, f"the run is already {current_name or current.value}")
    return Verdict(
        Decision.REJECT,
        f"a {current_name or current.value} run cannot become {proposed_name or proposed.value}",
    )


def must_stop(current: StateType | None) -> bool:
    """A process running a run in this state must stop it (it ended or is being cancelled)."""
    return current is not None and (current in FINAL or current is _T.CANCELLING)


def allowed_pairs() -> list[tuple[str, str]]:
    """Every accepted ``(current, proposed)`` pair of type values; ``''`` for no state yet."""
    return sorted(
        ("" if current is None else current.value, proposed.value)
        for current, targets in _ACCEPTS.items()
        for proposed in targets
    )


def state_groups() -> dict[str, list[str]]:
    """The state groups by name, for other languages (the side panel's generated copy)."""
    return {
        "FINAL": sorted(t.value for t in FINAL),
        "ACTIVE": sorted(t.value for t in ACTIVE),
        "HELD": sorted(t.value for t in HELD),
        "ALL": [t.value for t in StateType],
    }
