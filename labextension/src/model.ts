/**
 * FlowsModel: what the Flows panel shows, refreshed by one shared poll.
 */
import { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage, errorStatus, FlowsAPI } from './api';
import { dayStart } from './format';
import { Flows, IFlowsModel, IRunFilter } from './tokens';

/** Shown when the server has no jupyter-flows routes. */
export const MISSING_SERVER_EXTENSION =
  'The jupyter-flows server extension is not available (404 for jupyter-flows/api). ' +
  'Enable it with "jupyter server extension enable jupyter_flows" and restart JupyterLab.';

/** Every this many ticks the (rarely changing) list of flows is re-read. */
const FLOWS_EVERY = 6;
/** How many of the latest automation events are read per poll. */
const AUTOMATION_EVENTS = 50;
/** Artifact keys listed in the panel (the newest). */
const ARTIFACT_KEYS = 50;
/** Failed scheduled runs read per poll (for the toasts). */
const FAILED_SCHEDULED = 20;
/** Subflow runs shown under an expanded run (the newest). */
const SUBFLOWS_SHOWN = 100;
/** The server's largest page. */
const MAX_LIMIT = 1000;

export namespace FlowsModel {
  export interface IOptions {
    /** Seconds between polls while nothing fails. */
    interval?: number;
    /** The longest back-off, in seconds, after repeated failures. */
    maxInterval?: number;
    /** Runs per page of the list. */
    pageSize?: number;
  }
}

export class FlowsModel implements IFlowsModel, IDisposable {
  constructor(options: FlowsModel.IOptions = {}) {
    this._pageSize = options.pageSize ?? 50;
    this._poll = new Poll({
      auto: false,
      factory: () => this._tick(),
      frequency: FlowsModel.frequency(options),
      name: 'jupyter-flows:model',
      standby: 'when-hidden'
    });
  }

  static frequency(options: FlowsModel.IOptions): IPoll.Frequency {
    const interval = Math.max(1, options.interval ?? 5) * 1000;
    const max = Math.max(interval, (options.maxInterval ?? 60) * 1000);
    return { interval, backoff: true, max };
  }

  get changed(): ISignal<IFlowsModel, void> {
    return this._changed;
  }

  get ticked(): ISignal<IFlowsModel, void> {
    return this._ticked;
  }

  get runs(): Flows.IDescribeFlowRunItem[] {
    return this._runs;
  }

  get totalRuns(): number {
    return this._total;
  }

  get flows(): Flows.IDescribeFlow[] {
    return this._flows;
  }

  get deployments(): Flows.IDescribeDeployment[] {
    return this._deployments;
  }

  get workPools(): Flows.IDescribeWorkPool[] {
    return this._workPools;
  }

  get workers(): Flows.IDescribeWorker[] {
    return this._workers;
  }

  /** The newest version of each artifact key, newest first. */
  get artifacts(): Flows.IDescribeArtifact[] {
    return this._artifacts;
  }

  /** How many artifact keys there are (the panel shows the newest 50). */
  get artifactTotal(): number {
    return this._artifactTotal;
  }

  /** Global concurrency limits, with their holders. */
  get concurrencyLimits(): Flows.IDescribeConcurrencyLimit[] {
    return this._concurrencyLimits;
  }

  get variables(): Flows.IDescribeVariable[] {
    return this._variables;
  }

  get blocks(): Flows.IDescribeBlockDocument[] {
    return this._blocks;
  }

  get automations(): Flows.IDescribeAutomation[] {
    return this._automations;
  }

  get automationEvents(): Flows.IDescribeEvent[] {
    return this._automationEvents;
  }

  get failedScheduledRuns(): Flows.IDescribeFlowRunItem[] {
    return this._failedScheduled;
  }

  get orchestrationError(): string | null {
    return this._orchestrationError;
  }

  get error(): string | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  get filter(): IRunFilter {
    return this._filter;
  }

  set filter(filter: IRunFilter) {
    this._filter = { ...filter };
    this._generation += 1;
    this._runs = [];
    this._total = 0;
    this._loading = true;
    this._changed.emit();
    void this.refresh();
  }

  get subflows(): ReadonlyMap<string, Flows.IDescribeFlowRunItem[]> {
    return this._subflows;
  }

  get expanded(): ReadonlySet<string> {
    return this._expanded;
  }

  /** Show (read now, then with every poll) or hide a run's subflow runs. */
  async toggleSubflows(id: string): Promise<void> {
    const expanded = new Set(this._expanded);
    if (expanded.delete(id)) {
      this._expanded = expanded;
      this._changed.emit();
      return;
    }
    this._expanded = expanded.add(id);
    this._changed.emit();
    try {
      await this._fetchSubflows([id]);
    } catch (error) {
      this._error = errorMessage(error);
    }
    this._changed.emit();
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** Change the poll frequency (from the settings). */
  configure(options: FlowsModel.IOptions): void {
    this._poll.frequency = FlowsModel.frequency(options);
    if (options.pageSize) {
      this._pageSize = options.pageSize;
    }
  }

  /**
   * Check the server extension, then start polling.
   *
   * @returns why the server is not usable, or null when it is
   */
  async connect(): Promise<string | null> {
    try {
      await FlowsAPI.health();
    } catch (error) {
      this._error = this._describe(error);
      this._loading = false;
      this._changed.emit();
      if (errorStatus(error) === 404) {
        return this._error; // no polling: the panel offers "Retry"
      }
    }
    await this._poll.start();
    return this._error;
  }

  /** Poll now; resolves after the new data arrived (or failed). */
  async refresh(): Promise<void> {
    await this._poll.refresh();
    await this._poll.tick;
  }

  /** Append the next page of runs (same filter). */
  async loadMore(): Promise<void> {
    const generation = this._generation;
    this._loading = true;
    this._changed.emit();
    try {
      const page = await FlowsAPI.flowRuns({
        ...this._query(),
        limit: this._pageSize,
        offset: this._runs.length
      });
      if (generation === this._generation) {
        const known = new Set(this._runs.map(run => run.id));
        this._runs = [
          ...this._runs,
          ...page.items.filter(run => !known.has(run.id))
        ];
        this._total = page.total;
        this._error = null;
      }
    } catch (error) {
      this._error = errorMessage(error);
    } finally {
      this._loading = false;
      this._changed.emit();
    }
  }

  /** Replace one deployment after an action (pause, resume) without waiting for the poll. */
  updateDeployment(deployment: Flows.IDescribeDeployment): void {
    this._deployments = this._deployments.map(d =>
      d.id === deployment.id ? deployment : d
    );
    this._changed.emit();
  }

  /** Replace one automation after an action (enable, disable) without waiting for the poll. */
  updateAutomation(automation: Flows.IDescribeAutomation): void {
    this._automations = this._automations.map(a =>
      a.id === automation.id ? automation : a
    );
    this._changed.emit();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    Signal.clearData(this);
  }

  private _describe(error: unknown): string {
    return errorStatus(error) === 404
      ? MISSING_SERVER_EXTENSION
      : errorMessage(error);
  }

  private _query(): Flows.IListFlowRunsQuery {
    const f = this._filter;
    const split = (text: string) =>
      text
        .split(',')
        .map(t => t.trim())
        .filter(t => t);
    const kind = f.kind ? [f.kind as Flows.IDescribeFlowRunItem['kind']] : [];
    return {
      flow_name: f.flowName || undefined,
      deployment_id: f.deploymentId || undefined,
      state: f.state ? [f.state] : undefined,
      tags: f.tags ? split(f.tags) : undefined,
      name: f.name.trim() || undefined,
      kind: kind.length ? kind : undefined,
      since: f.since ? dayStart(f.since) : undefined,
      until: f.until ? dayStart(f.until, 1) : undefined,
      // subflow runs are listed under their parent, unless asked for as such
      top_level: kind.includes('subflow') ? undefined : true
    };
  }

  private async _tick(): Promise<void> {
    this._ticks += 1;
    try {
      await Promise.all([
        this._fetchRuns(),
        this._fetchOrchestration(),
        this._ticks % FLOWS_EVERY === 1 ? this._fetchFlows() : null,
        this._fetchFailedScheduled()
      ]);
      this._error = null;
    } catch (error) {
      // shown in the panel; rethrown so that the poll backs off
      this._error = this._describe(error);
      throw error;
    } finally {
      this._loading = false;
      this._changed.emit();
      this._ticked.emit();
    }
  }

  private async _fetchRuns(): Promise<void> {
    const generation = this._generation;
    const limit = Math.min(
      Math.max(this._runs.length, this._pageSize),
      MAX_LIMIT
    );
    const page = await FlowsAPI.flowRuns({
      ...this._query(),
      limit,
      offset: 0
    });
    if (generation !== this._generation) {
      return; // the filter changed meanwhile
    }
    const fresh = new Set(page.items.map(run => run.id));
    const older = this._runs.slice(limit).filter(run => !fresh.has(run.id));
    this._runs = [...page.items, ...older];
    this._total = page.total;
    await this._fetchSubflows([...this._expanded]);
  }

  /** Read the subflow runs of these runs (the first page of each). */
  private async _fetchSubflows(ids: string[]): Promise<void> {
    const pages = await Promise.all(
      ids.map(id =>
        FlowsAPI.flowRuns({ parent_flow_run_id: id, limit: SUBFLOWS_SHOWN })
      )
    );
    const subflows = new Map(this._subflows);
    ids.forEach((id, i) => subflows.set(id, pages[i].items));
    this._subflows = subflows;
  }

  /** The newest failed scheduled runs (what the toasts tell of). */
  private async _fetchFailedScheduled(): Promise<void> {
    const page = await FlowsAPI.flowRuns({
      kind: ['scheduled'],
      state: ['FAILED', 'CRASHED'],
      limit: FAILED_SCHEDULED
    });
    this._failedScheduled = page.items;
  }

  private async _fetchFlows(): Promise<void> {
    this._flows = await FlowsAPI.flows();
  }

  private async _fetchOrchestration(): Promise<void> {
    try {
      const [
        deployments,
        pools,
        workers,
        automations,
        events,
        artifacts,
        limits,
        variables,
        blocks
      ] = await Promise.all([
        FlowsAPI.deployments(),
        FlowsAPI.workPools(),
        FlowsAPI.workers(),
        FlowsAPI.automations(),
        FlowsAPI.events({ event: 'automation.*', limit: AUTOMATION_EVENTS }),
        FlowsAPI.artifacts({ latest: true, limit: ARTIFACT_KEYS }),
        FlowsAPI.concurrencyLimits(),
        FlowsAPI.variables(),
        // one document the server cannot decrypt must not blank the whole panel
        FlowsAPI.blocks().catch(reason => {
          console.warn('jupyter-flows: cannot list block documents', reason);
          return [];
        })
      ]);
      this._variables = variables;
      this._blocks = blocks;
      this._concurrencyLimits = limits;
      this._artifacts = artifacts.items;
      this._artifactTotal = artifacts.total;
      this._deployments = deployments.items;
      this._workPools = pools;
      this._workers = workers;
      this._automations = automations;
      this._automationEvents = events;
      this._orchestrationError = null;
    } catch (error) {
      if (errorStatus(error) !== 404) {
        throw error;
      }
      // a server without the deployments part: the runs still work
      this._orchestrationError =
        'Deployments, automations and work pools are not available on this server.';
    }
  }

  private _changed = new Signal<IFlowsModel, void>(this);
  private _ticked = new Signal<IFlowsModel, void>(this);
  private _poll: Poll;
  private _pageSize: number;
  private _ticks = 0;
  private _generation = 0;
  private _runs: Flows.IDescribeFlowRunItem[] = [];
  private _failedScheduled: Flows.IDescribeFlowRunItem[] = [];
  private _subflows = new Map<string, Flows.IDescribeFlowRunItem[]>();
  private _expanded = new Set<string>();
  private _total = 0;
  private _flows: Flows.IDescribeFlow[] = [];
  private _deployments: Flows.IDescribeDeployment[] = [];
  private _workPools: Flows.IDescribeWorkPool[] = [];
  private _workers: Flows.IDescribeWorker[] = [];
  private _automations: Flows.IDescribeAutomation[] = [];
  private _automationEvents: Flows.IDescribeEvent[] = [];
  private _artifacts: Flows.IDescribeArtifact[] = [];
  private _artifactTotal = 0;
  private _concurrencyLimits: Flows.IDescribeConcurrencyLimit[] = [];
  private _variables: Flows.IDescribeVariable[] = [];
  private _blocks: Flows.IDescribeBlockDocument[] = [];
  private _orchestrationError: string | null = null;
  private _error: string | null = null;
  private _loading = true;
  private _filter: IRunFilter = {
    flowName: '',
    state: '',
    tags: '',
    deploymentId: '',
    name: '',
    kind: '',
    since: '',
    until: ''
  };
}
