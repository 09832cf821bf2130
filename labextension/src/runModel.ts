/**
 * RunModel: one flow run's detail, graph and log tail, refreshed on the
 * shared poll's ticks until the run is final.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage, FlowsAPI } from './api';
import { isFinal } from './format';
import { Flows, IFlowsModel } from './tokens';

/** The most log lines kept in the view (the oldest are dropped). */
const MAX_LOGS = 5000;

export class RunModel implements IDisposable {
  constructor(
    readonly runId: string,
    flows: IFlowsModel
  ) {
    flows.ticked.connect(this._onTick, this);
  }

  get changed(): ISignal<RunModel, void> {
    return this._changed;
  }

  get run(): Flows.IDescribeFlowRun | null {
    return this._run;
  }

  get graph(): Flows.IGraphLayout | null {
    return this._graph;
  }

  get logs(): Flows.IDescribeLog[] {
    return this._logs;
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

  /** Read the run, its graph and the new log lines. */
  async refresh(): Promise<void> {
    if (this._pending) {
      return this._pending;
    }
    this._pending = this._fetch().finally(() => {
      this._pending = null;
    });
    return this._pending;
  }

  /** Adopt a run returned by an action (cancel) and refresh the rest. */
  update(run: Flows.IDescribeFlowRun): void {
    this._run = { ...this._run, ...run };
    this._done = false;
    this._wasFinal = false;
    this._changed.emit();
    void this.refresh();
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

  private async _fetch(): Promise<void> {
    try {
      const [run, graph, logs] = await Promise.all([
        FlowsAPI.flowRun(this.runId),
        FlowsAPI.graph(this.runId),
        FlowsAPI.logs(this.runId, this._lastLogId)
      ]);
      if (this._isDisposed) {
        return;
      }
      // the run detail carries all logs too; the view keeps its own tail
      this._run = { ...run, logs: [] };
      this._graph = graph;
      if (logs.length) {
        this._lastLogId = logs[logs.length - 1].id;
        this._logs = [...this._logs, ...logs].slice(-MAX_LOGS);
      }
      this._error = null;
      // one more read after the run became final picks up late log lines
      this._done = this._wasFinal && isFinal(run);
      this._wasFinal = isFinal(run);
    } catch (error) {
      this._error = errorMessage(error);
    }
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _changed = new Signal<RunModel, void>(this);
  private _run: Flows.IDescribeFlowRun | null = null;
  private _graph: Flows.IGraphLayout | null = null;
  private _logs: Flows.IDescribeLog[] = [];
  private _lastLogId = 0;
  private _error: string | null = null;
  private _done = false;
  private _wasFinal = false;
  private _isDisposed = false;
  private _pending: Promise<void> | null = null;
}
