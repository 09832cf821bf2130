"""The one domain error tree of jupyter-flows. No HTTP here: the server maps these in one place."""

from __future__ import annotations

__all__ = [
    "FlowPauseTimeout",
    "Pause",
    "FlowsError",
    "FlowDefinitionError",
    "ParameterValidationError",
    "CycleError",
    "RunNotCompleted",
    "FailedRun",
    "CrashedRun",
    "CancelledRun",
    "PausedRun",
    "UnfinishedRun",
    "TaskTimeout",
    "RunCancelled",
    "ResultPersistenceError",
    "MissingResult",
    "ConfigurationError",
    "MissingContextError",
    "StoreError",
    "SecretsKeyError",
    "UnknownBlockType",
    "NotFound",
    "Conflict",
    "TooLarge",
    "ScheduleError",
    "TaskFailed",
    "PrefectException",
    "ObjectNotFound",
    "ObjectAlreadyExists",
    "ParameterTypeError",
    "ConcurrencySlotAcquisitionError",
    "AcquireConcurrencySlotTimeoutError",
    "UnstorableParameter",
    "ActionFailed",
]


class FlowsError(Exception):
    """Root of every error jupyter-flows raises on purpose."""


class FlowDefinitionError(FlowsError, ValueError):
    """A ``@flow``/``@task`` was declared with invalid options (e.g. negative retries)."""


class ParameterValidationError(FlowsError, ValueError):
    """Run parameters do not match the function's signature or type hints."""

    def __init__(self, target: str, errors: list[str]):
        self.target = target
        self.errors = errors
        super().__init__(f"invalid parameters for {target!r}: " + "; ".join(errors))


class CycleError(FlowsError, ValueError):
    """Dependencies form a cycle."""

    def __init__(self, cycle: list[str]):
        self.cycle = cycle
        super().__init__("dependency cycle: " + " -> ".join(cycle))


class RunNotCompleted(FlowsError):
    """Asked for the result of a run that ended without one (cancelled, crashed...)."""

    def __init__(self, state_name: str, message: str | None):
        self.state_name = state_name
        super().__init__(f"run ended {state_name}" + (f": {message}" if message else ""))


class FailedRun(RunNotCompleted):
    """Prefect's name: the result of a run that ended Failed without an exception."""


class CrashedRun(RunNotCompleted):
    """Prefect's name: the result of a run that crashed without an exception."""


class CancelledRun(RunNotCompleted):
    """Prefect's name: the result of a run that was cancelled."""


class PausedRun(RunNotCompleted):
    """Prefect's name: the result of a run that is paused."""


class UnfinishedRun(RunNotCompleted):
    """Prefect's name: the result of a run that is not final yet."""


def run_not_completed(state: object) -> RunNotCompleted:
    """The exception ``State.result()`` raises for a final state that has no result."""
    kind = getattr(getattr(state, "type", None), "value", "")
    error = {"FAILED": FailedRun, "CRASHED": CrashedRun, "CANCELLED": CancelledRun}.get(
        kind, RunNotCompleted
    )
    return error(getattr(state, "name", kind), getattr(state, "message", None))


class TaskTimeout(FlowsError, TimeoutError):
    """A flow or task run exceeded ``timeout_seconds``."""

    def __init__(self, name: str, seconds: float):
        self.name = name
        self.seconds = seconds
        super().__init__(f"{name!r} exceeded its timeout of {seconds:g} s")


class FlowPauseTimeout(FlowsError):
    """A paused flow run was not resumed within its ``timeout`` (Prefect's name)."""


class Pause(BaseException):
    """Prefect's signal: the flow run suspended (``suspend_flow_run``) and its process must
    end without a final state. A ``BaseException``, as Prefect's: an ``except Exception`` of
    the flow does not swallow it. ``state`` is the recorded ``Suspended`` state."""

    def __init__(self, message: str = "", state: object = None):
        super().__init__(message)
        self.state = state


class RunCancelled(FlowsError):
    """The run was cancelled while it ran."""


class ResultPersistenceError(FlowsError):
    """A result could not be serialized or stored."""


class MissingResult(FlowsError):
    """Prefect's name: a state's result was not persisted, or its storage no longer has it."""


class ConfigurationError(FlowsError, ValueError):
    """Options that cannot work together (e.g. a SERIALIZABLE transaction without a key)."""


class MissingContextError(FlowsError, RuntimeError):
    """Prefect's name: asked for the current run's context outside any flow or task run."""


class StoreError(FlowsError):
    """The run database cannot be used (unreachable, read-only, wrong schema...)."""


class SecretsKeyError(StoreError):
    """The key that encrypts block documents at rest is missing, unreadable or not the one
    a document was saved with; carries the key file's path."""

    def __init__(self, message: str, key_file: str):
        self.key_file = key_file
        super().__init__(message)


class UnknownBlockType(FlowsError, LookupError):
    """Prefect's name: no block class of this slug is defined in this process."""


class NotFound(FlowsError, LookupError):
    """A requested record does not exist."""


class TooLarge(FlowsError):
    """A request's content over a configured size limit (the API answers 413)."""


class Conflict(FlowsError):
    """The request conflicts with the current state (duplicate name, run already final...)."""


class UnstorableParameter(FlowsError, TypeError):
    """``Task.delay()`` got an argument that can be neither JSON nor pickled, so no task
    worker could ever receive it; nothing was queued."""

    def __init__(self, task: str, parameter: str, reason: str):
        self.task = task
        self.parameter = parameter
        self.reason = reason
        super().__init__(
            f"{task}.delay(): parameter {parameter!r} cannot be stored for a task worker "
            f"(not JSON, and cloudpickle failed: {reason}); nothing was queued"
        )


class ConcurrencySlotAcquisitionError(FlowsError):
    """Prefect's name: concurrency slots cannot be acquired (no such limit with ``strict``,
    more slots than the limit, a rate limit without decay, retries exhausted, a tag limit
    of 0)."""


class AcquireConcurrencySlotTimeoutError(FlowsError, TimeoutError):
    """Prefect's name: concurrency slots were not acquired within ``timeout_seconds``."""


class ActionFailed(FlowsError):
    """An automation's action could not be done (a webhook's error or timeout, an SMTP
    refusal); ``retryable`` says whether trying again later may help."""

    def __init__(self, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class ScheduleError(FlowsError, ValueError):
    """An invalid schedule (cron string, interval, timezone)."""


class TaskFailed(FlowsError):
    """A notebook cell or task failed; carries where and what."""

    def __init__(self, task: str, ename: str, evalue: str, cell_index: int | None = None) -> None:
        self.task = task
        self.ename = ename
        self.evalue = evalue
        self.cell_index = cell_index
        where = f" (cell {cell_index})" if cell_index is not None else ""
        super().__init__(f"task {task!r}{where} failed: {ename}: {evalue}")


# Prefect's names for the same errors (``from jupyter_flows.exceptions import ObjectNotFound``)
PrefectException = FlowsError
ObjectNotFound = NotFound
ObjectAlreadyExists = Conflict
ParameterTypeError = ParameterValidationError
