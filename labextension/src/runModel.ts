/**
 * RunModel: what a run view shows of one flow run, read in bounded requests
 * (the detail, its graph, one page of task runs, a tail of log lines, the
 * errors of failed task runs) and refreshed on the shared poll's ticks until
 * the run is final.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage, FlowsAPI } from './api';
import { BAD, inGroup, isFinal } from './format';
import { RunViews } from './runTypes';
import { Flows, IFlowsModel } from './tokens';

/** Task runs per page of the task table and timeline. */
export const TASK_PAGE = 100;
/** Log lines per request. */
const LOG_PAGE = 500;
/** The most log lines kept in the view (the oldest are dropped). */
const MAX_LOGS = 2000;
/** The failed task runs (and error lines) shown in the error box. */
const MAX_ERRORS = 20;
/** The artifacts shown in a run view (the newest). */
const MAX_ARTIFACTS = 100;

/** Which task runs the task table shows. */
export interface ITaskQuery {
  offset: number;
  /** A state name, or '' for all. */
  state: string;
  /** Only the runs of one task (a node of the graph), or null. */
  taskKey: string | null;
}

interface ILogTail {
  logs: Flows.IDescribeLog[];
  hasEarlier: boolean;
}

/** New log lines: to append to the tail, or (`replace`) the latest lines. */
interface ILogRead extends ILogTail {
  replace: boolean;
}

export class RunModel implements IDisposable {
  constructor(
    readonly runId: string,
    readonly flows: IFlowsModel
  ) {
    flows.ticked.connect(this._onTick, this);
  }

  get changed(): ISignal<RunModel, void> {
    return this._changed;
  }

  get run(): RunViews.IDescribeFlowRunDetail | null {
    return this._run;
  }

  get graph(): RunViews.IGraphLayout | null {
    return this._graph;
  }

  /** The current page of task runs, with their state histories. */
  get taskPage(): RunViews.IListTaskRunsResponse | null {
    return this._taskPage;
  }

  get taskQuery(): ITaskQuery {
    return this._taskQuery;
  }

  /** The latest log lines (at most 2,000), oldest first. */
  get logs(): Flows.IDescribeLog[] {
    return this._logs.logs;
  }

  /** Whether older log lines than `logs` exist. */
  get hasEarlierLogs(): boolean {
    return this._logs.hasEarlier;
  }

  /** The first failed or crashed task runs, and the latest ERROR lines. */
  get failedTaskRuns(): Flows.IDescribeTaskRun[] {
    return this._failed;
  }

  get errorLogs(): Flows.IDescribeLog[] {
    return this._errorLogs;
  }

  /** The run's artifacts (its task runs' too), oldest first. */
  get artifacts(): Flows.IDescribeArtifact[] {
    return this._artifacts;
  }

  /** How many artifacts the run has (more than `artifacts` shows, beyond 100). */
  get artifactTotal(): number {
    return this._artifactTotal;
  }

  get error(): string | null {
    return this._error;
  }

  /** Whether the run was final at the last refresh (no more polling). */
  get done(): boolean {
    return this._done;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Read the run, its graph, the task page and the new log lines. */
  async refresh(): Promise<void> {
    if (this._pending) {
      return this._pending;
    }
    this._pending = this._fetch().finally(() => {
      this._pending = null;
    });
    return this._pending;
  }

  /** Adopt the state returned by an action (cancel) and refresh the rest. */
  update(state: RunViews.IDescribeRunState): void {
    if (this._run) {
      const { state_name, state_message, worker, heartbeat } = state;
      // DescribeRunState types state_type as a plain string (it is a StateType)
      const state_type = state.state_type as Flows.StateType | null;
      this._run = {
        ...this._run,
        state_type,
        state_name,
        state_message,
        worker,
        heartbeat
      };
    }
    this._done = false;
    this._wasFinal = false;
    this._changed.emit();
    void this.refresh();
  }

  /** Show another page or filter of the task runs. */
  async setTaskQuery(change: Partial<ITaskQuery>): Promise<void> {
    this._taskQuery = { ...this._taskQuery, ...change };
    this._changed.emit();
    await this._apply(async () => {
      const page = await this._fetchTasks();
      return () => {
        if (page) {
          this._taskPage = page;
        }
      };
    });
  }

  /** Prepend the log lines before the first one shown. */
  async loadEarlierLogs(): Promise<void> {
    const first = this._logs.logs[0];
    if (!first) {
      return;
    }
    await this._apply(async () => {
      const page = await FlowsAPI.logs(this.runId, {
        before_id: first.id,
        newest: true,
        limit: LOG_PAGE
      });
      return () => {
        this._logs = {
          logs: [...page.items, ...this._logs.logs],
          hasEarlier: page.has_more
        };
      };
    });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _onTick(): void {
    if (!this._done && !this._isDisposed) {
      void this.refresh();
    }
  }

  /** Run `read`, then apply what it returns and emit (or show its error). */
  private async _apply(read: () => Promise<() => void>): Promise<void> {
    try {
      const commit = await read();
      if (this._isDisposed) {
        return;
      }
      commit();
      this._error = null;
    } catch (error) {
      this._error = errorMessage(error);
    }
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _fetch(): Promise<void> {
    return this._apply(async () => {
      const [run, graph, page, tail, artifacts] = await Promise.all([
        FlowsAPI.flowRun(this.runId),
        FlowsAPI.graph(this.runId),
        this._fetchTasks(),
        this._fetchLogs(),
        FlowsAPI.artifacts({ flow_run_id: this.runId, limit: MAX_ARTIFACTS })
      ]);
      const counts = run.task_run_counts;
      const bad =
        BAD.some(type => (counts[type] ?? 0) > 0) ||
        inGroup(BAD, run.state_type);
      const [failed, errorLogs] = bad
        ? await Promise.all([
            FlowsAPI.taskRuns(this.runId, {
              state: [...BAD],
              limit: MAX_ERRORS
            }),
            FlowsAPI.logs(this.runId, {
              min_level: 40,
              newest: true,
              limit: MAX_ERRORS * 5
            })
          ])
        : [null, null];
      return () => {
        this._run = run;
        this._graph = graph;
        this._artifacts = [...artifacts.items].reverse();
        this._artifactTotal = artifacts.total;
        if (page) {
          this._taskPage = page;
        }
        this._logs = merged(this._logs, tail);
        this._failed = failed?.items ?? [];
        this._errorLogs = errorLogs?.items ?? [];
        // one more read after the run became final picks up late log lines
        this._done = this._wasFinal && isFinal(run);
        this._wasFinal = isFinal(run);
      };
    });
  }

  /** The page of `taskQuery`; null if the query changed meanwhile. */
  private async _fetchTasks(): Promise<RunViews.IListTaskRunsResponse | null> {
    const asked = this._taskQuery;
    const page = await FlowsAPI.taskRuns(this.runId, {
      offset: asked.offset,
      limit: TASK_PAGE,
      state: asked.state ? [asked.state] : undefined,
      task_key: asked.taskKey ?? undefined,
      with_states: true
    });
    return asked === this._taskQuery ? page : null;
  }

  /** The latest lines first, then the new ones (tail-follow). */
  private async _fetchLogs(): Promise<ILogRead> {
    const shown = this._logs.logs;
    const last = shown[shown.length - 1];
    if (last) {
      const page = await FlowsAPI.logs(this.runId, {
        after_id: last.id,
        limit: LOG_PAGE
      });
      if (!page.has_more) {
        return { logs: page.items, hasEarlier: false, replace: false };
      }
      // more came than a page since the last read: jump to the latest
    }
    const latest = await FlowsAPI.logs(this.runId, {
      newest: true,
      limit: LOG_PAGE
    });
    return { logs: latest.items, hasEarlier: latest.has_more, replace: true };
  }

  private _changed = new Signal<RunModel, void>(this);
  private _run: RunViews.IDescribeFlowRunDetail | null = null;
  private _graph: RunViews.IGraphLayout | null = null;
  private _taskPage: RunViews.IListTaskRunsResponse | null = null;
  private _taskQuery: ITaskQuery = { offset: 0, state: '', taskKey: null };
  private _logs: ILogTail = { logs: [], hasEarlier: false };
  private _failed: Flows.IDescribeTaskRun[] = [];
  private _errorLogs: Flows.IDescribeLog[] = [];
  private _error: string | null = null;
  private _done = false;
  private _wasFinal = false;
  private _isDisposed = false;
  private _pending: Promise<void> | null = null;
  private _artifacts: Flows.IDescribeArtifact[] = [];
  private _artifactTotal = 0;
}

/** The tail `shown` after reading `read` (lines already shown are not repeated). */
function merged(shown: ILogTail, read: ILogRead): ILogTail {
  if (read.replace) {
    return { logs: read.logs, hasEarlier: read.hasEarlier };
  }
  const last = shown.logs.length ? shown.logs[shown.logs.length - 1].id : 0;
  const logs = [...shown.logs, ...read.logs.filter(log => log.id > last)];
  return {
    logs: logs.slice(-MAX_LOGS),
    hasEarlier: shown.hasEarlier || logs.length > MAX_LOGS
  };
}
