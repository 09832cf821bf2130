"""``%%task`` and ``%flow``: a notebook's cells as an observable, retry-safe pipeline."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from types import TracebackType
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..exceptions import FlowsError, StoreError
from .cells import TaskCell
from .notebook_flow import NotebookFlow

__all__ = ["FlowsMagics"]

logger = logging.getLogger(__name__)


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _default_name(cell: TaskCell, count: int) -> str:
    defines = sorted(cell.names.defines)
    if not defines:
        return f"cell-{count}"
    return "+".join(defines[:3]) + ("+…" if len(defines) > 3 else "")


def _user_traceback(exc: BaseException, filename: str) -> TracebackType | None:
    """The part of ``exc``'s traceback that is in the user's cell (and below)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return tb or exc.__traceback__


@magics_class
class FlowsMagics(Magics):
    """The jupyter-flows magics. Load with ``%load_ext jupyter_flows``."""

    shell: Any

    def __init__(self, shell: Any):
        super().__init__(shell)
        self._filenames: dict[str, str] = {}
        self.notebook = NotebookFlow(shell.user_ns, shell.compile, cell_filename=self._filename)
        self._count = 0
        self._store_warned = False

    def _filename(self, source: str) -> str:
        """Register the cell source with IPython so tracebacks show its lines."""
        name = self._filenames.get(source)
        if name is None:
            self._count += 1
            name = self.shell.compile.cache(source, self.shell.execution_count)
            self._filenames[source] = name
        return name

    def _cell_id(self) -> str | None:
        kernel = getattr(self.shell, "kernel", None)
        if kernel is None:
            return None
        try:
            parent = kernel.get_parent("shell") if hasattr(kernel, "get_parent") else {}
        except TypeError:
            parent = kernel.get_parent()
        metadata = (parent or {}).get("metadata") or {}
        cell_id = metadata.get("cellId") or metadata.get("cell_id")
        return str(cell_id) if cell_id else None

    def _ensure_store(self) -> None:
        """Open the run database; if it can't be, warn once and run cells unrecorded."""
        from ..core import settings
        from ..core.records import NullRecorder

        try:
            settings.get_recorder()
        except StoreError as exc:
            settings.set_recorder(NullRecorder())
            if not self._store_warned:
                self._store_warned = True
                print(
                    f"jupyter-flows: runs are NOT recorded: {exc}\n"
                    "Cells still run as tasks (retries, timeouts), without a run history.",
                    file=sys.stderr,
                )

    @magic_arguments()
    @argument("name", nargs="?", help="task name (default: the names the cell defines)")
    @argument("--retries", type=int, default=0, help="retry a failing cell N times")
    @argument("--retry-delay", type=float, default=0.0, help="seconds between attempts")
    @argument("--timeout", type=float, default=None, help="fail the cell after S seconds")
    @argument("--cache", action="store_true", help="reuse outputs for unchanged code and inputs")
    @argument("--cache-expiration", type=float, default=None, help="cache lifetime in seconds")
    @argument("--tags", default="", help="comma-separated tags")
    @argument("--after", default="", help="comma-separated tasks that must run first")
    @argument(
        "--persist",
        action="store_true",
        help="persist the names the cell binds (pickled), so that a retry of a failed "
        "deployment run restores them instead of running the cell again",
    )
    @argument(
        "--artifacts",
        action="store_true",
        help="keep the cell's result (a DataFrame as a table), its figures and shown images "
        "as artifacts of its task run",
    )
    @cell_magic
    def task(self, line: str, cell: str) -> Any:
        """Run this cell as a task: recorded states, retries, timeout, caching, DAG."""
        __tracebackhide__ = True  # noqa: F841
        try:
            args = parse_argstring(self.task, line)
        except UsageError:
            raise
        except SystemExit:  # argparse on bad input
            raise UsageError(f"%%task: invalid options {line!r}; see %%task?") from None
        source = self.shell.input_transformer_manager.transform_cell(cell)
        options = {
            "retries": args.retries,
            "retry_delay": args.retry_delay,
            "timeout": args.timeout,
            "cache": args.cache,
            "cache_expiration": args.cache_expiration,
            "tags": _csv(args.tags),
            "after": _csv(args.after),
            "artifacts": args.artifacts,
            "persist": args.persist,
        }
        try:
            task_cell = TaskCell(args.name or "", source, options, self._cell_id())
        except SyntaxError:
            raise  # the user's own syntax error, with its line
        if args.retries < 0 or (args.timeout is not None and args.timeout <= 0):
            raise UsageError("%%task: --retries must be >= 0 and --timeout > 0")
        task_cell.explicit_name = bool(args.name)
        task_cell.name = args.name or _default_name(task_cell, len(self.notebook.cells) + 1)
        previous = self.notebook.cells.get(task_cell.name)
        try:
            self.notebook.register(task_cell)
            self.notebook.dataflow()  # reports cycles from --after before running
        except FlowsError as exc:
            self.notebook.unregister(task_cell, previous)
            raise UsageError(str(exc)) from None
        self._ensure_store()
        state, value = self.notebook.run_cell(task_cell)
        if state.name == "Cached":
            restored = ", ".join(sorted(task_cell.names.defines)) or "nothing"
            print(
                f"[jupyter-flows] {task_cell.name}: Cached (restored {restored})", file=sys.stderr
            )
        if not state.is_completed():
            error = state.data if isinstance(state.data, BaseException) else None
            if error is None:
                raise FlowsError(f"task {task_cell.name!r} ended {state}")
            if isinstance(error, FlowsError):  # a timeout, a persistence error: no traceback
                message = f"{type(error).__name__}: {error}"
                error._render_traceback_ = lambda: [message]  # type: ignore[attr-defined]
                raise error.with_traceback(None)
            raise error.with_traceback(_user_traceback(error, self._filename(source)))
        return value

    @line_magic
    def flow(self, line: str) -> Any:
        """%flow graph | run [--parallel] [--stale] | status | runs | report [RUN_ID] [-o FILE]

        graph   show the notebook's task DAG with the latest states
        run     run every task in dependency order as a new flow run
                (--parallel: independent tasks at once; --stale: only what changed)
        status  the latest run of each task
        runs    recent runs of this notebook (--limit N, --all)
        report  write a run report (HTML or Markdown)
        deploy  --cron/--interval [--param k=v]: schedule this notebook on the server
        config  --auto-graph on|off: show a live graph under cells that call a @flow
        """
        words = shlex.split(line)
        if not words:
            raise UsageError(FlowsMagics.flow.__doc__ or "%flow SUBCOMMAND")
        command, rest = words[0], words[1:]
        handler = getattr(self, f"_flow_{command}", None)
        if handler is None:
            raise UsageError(
                f"%flow: unknown subcommand {command!r}; "
                "use graph, run, status, runs, report, deploy or config"
            )
        return handler(rest)

    def _parse(self, prog: str, rest: list[str], parser: argparse.ArgumentParser) -> Any:
        parser.prog = f"%flow {prog}"
        try:
            return parser.parse_args(rest)
        except SystemExit:
            raise UsageError(f"%flow {prog}: invalid arguments {' '.join(rest)!r}") from None

    def _flow_config(self, rest: list[str]) -> Any:
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--auto-graph", choices=["on", "off"])
        args = self._parse("config", rest, parser)
        from .auto_graph import auto_graph_enabled, set_auto_graph

        if args.auto_graph is not None:
            set_auto_graph(args.auto_graph == "on")

        return f"auto graph for @flow calls: {'on' if auto_graph_enabled() else 'off'}"

    def _flow_deploy(self, rest: list[str]) -> Any:
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--name")
        parser.add_argument("--cron")
        parser.add_argument("--interval", type=float)
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--param", action="append", default=[])
        parser.add_argument("--pool", default="default")
        parser.add_argument("--path", help="notebook path relative to the server root")
        args = self._parse("deploy", rest, parser)
        from ..client.deploy import deploy
        from ..client.discovery import parse_params

        path = args.path or os.environ.get("JPY_SESSION_NAME")
        if not path:
            raise UsageError("%flow deploy: the notebook path is unknown here; pass --path")
        try:
            params = parse_params(args.param)
            created = deploy(
                path,
                args.name or os.path.splitext(os.path.basename(path))[0],
                cron=args.cron,
                interval=args.interval,
                timezone=args.timezone,
                parameters=params,
                work_pool=args.pool,
            )
        except Exception as exc:  # noqa: BLE001 - show the server's reason, not a traceback
            raise UsageError(f"%flow deploy: {exc}") from None
        return f"deployment {created['name']!r} created; next run: {created.get('next_run_time')}"

    def _flow_graph(self, rest: list[str]) -> Any:
        from .views import dag_widget

        return dag_widget(self.notebook)

    def _flow_run(self, rest: list[str]) -> Any:
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--parallel", action="store_true")
        parser.add_argument("--stale", action="store_true")
        parser.add_argument("--workers", type=int, default=4)
        args = self._parse("run", rest, parser)
        self._ensure_store()
        names = self.notebook.stale() if args.stale else None
        if names == []:
            print("[jupyter-flows] nothing is stale: every task is up to date", file=sys.stderr)
            return None
        from .views import live_run

        with live_run(self.notebook) as _widget:
            run, states, outcome = self.notebook.run_all(names, args.parallel, args.workers)
        from .views import RunSummary

        summary = RunSummary(run, states, outcome)
        if run.adopted and not outcome.is_completed():
            # papermill's outcome is the deployment run's: stop the notebook here
            from IPython.display import display

            display(summary)
            error = FlowsError(f"%flow run: {outcome.name}: {outcome.message}")
            error._render_traceback_ = lambda: [str(error)]  # type: ignore[attr-defined]
            raise error
        return summary

    def _flow_status(self, rest: list[str]) -> Any:
        from .views import StatusTable

        return StatusTable(self.notebook)

    def _flow_runs(self, rest: list[str]) -> Any:
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--limit", type=int, default=10)
        parser.add_argument("--all", action="store_true", help="runs of every flow")
        args = self._parse("runs", rest, parser)
        from .views import RunsTable

        return RunsTable(None if args.all else self.notebook.name, args.limit)

    def _flow_report(self, rest: list[str]) -> Any:
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("run_id", nargs="?")
        parser.add_argument("-o", "--output")
        parser.add_argument("--format", choices=["html", "md"])
        args = self._parse("report", rest, parser)
        from .views import write_report

        return write_report(self.notebook, args.run_id, args.output, args.format)
