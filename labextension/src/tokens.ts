/**
 * Tokens, command ids and the REST API types of jupyter-flows.
 *
 * The `Flows` namespace mirrors the server's pydantic models
 * (`jupyter_flows.store.schemas`, the deployment/work pool models and the
 * layout of `jupyter_flows.core.layout`); see docs/rest-api.md.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

/**
 * The command ids of jupyter-flows.
 */
export namespace CommandIDs {
  export const openPanel = 'jupyter-flows:open-panel';
  export const refresh = 'jupyter-flows:refresh';
  export const openRun = 'jupyter-flows:open-run';
  export const cancelRun = 'jupyter-flows:cancel-run';
  export const downloadReport = 'jupyter-flows:download-report';
  export const openOutput = 'jupyter-flows:open-output';
  export const runDeployment = 'jupyter-flows:run-deployment';
  export const toggleDeployment = 'jupyter-flows:toggle-deployment';
  export const toggleAutomation = 'jupyter-flows:toggle-automation';
  export const scheduleNotebook = 'jupyter-flows:schedule-notebook';
}

/**
 * The API types, named by verb like the server models.
 */
export namespace Flows {
  /** Coarse state kinds (`StateType`); `state_name` refines them. */
  export type StateType =
    | 'SCHEDULED'
    | 'PENDING'
    | 'RUNNING'
    | 'COMPLETED'
    | 'FAILED'
    | 'CANCELLED'
    | 'CRASHED'
    | 'PAUSED'
    | 'CANCELLING';

  export interface IHealth {
    status: string;
    version: string;
    db_url: string;
    scheduler: boolean;
    embedded_worker: boolean;
  }

  export interface IDescribeFlow {
    id: string;
    name: string;
    description?: string | null;
    created: string;
  }

  export interface IDescribeState {
    id: number;
    run_id: string;
    run_kind: 'flow' | 'task';
    flow_run_id?: string | null;
    type: StateType;
    name: string;
    timestamp: string;
    message?: string | null;
  }

  export interface IDescribeLog {
    id: number;
    flow_run_id?: string | null;
    task_run_id?: string | null;
    level: number;
    logger: string;
    message: string;
    timestamp: string;
  }

  export interface IDescribeEdge {
    upstream_id: string;
    downstream_id: string;
    kind: 'data' | 'wait_for';
    parameter?: string | null;
  }

  /** Columns shared by flow and task runs. */
  export interface IRunColumns {
    id: string;
    name: string;
    tags: string[];
    state_type?: StateType | null;
    state_name?: string | null;
    state_message?: string | null;
    created: string;
    start_time?: string | null;
    end_time?: string | null;
    expected_start_time?: string | null;
    run_count: number;
    total_run_time: number;
  }

  export interface IDescribeTaskRun extends IRunColumns {
    flow_run_id?: string | null;
    task_key: string;
    task_name: string;
    dynamic_key: number;
    cache_key?: string | null;
    description?: string | null;
    version?: string | null;
    subflow_run_id?: string | null;
  }

  export interface IDescribeFlowRun extends IRunColumns {
    flow_name: string;
    flow_version?: string | null;
    parameters: Record<string, unknown>;
    parent_flow_run_id?: string | null;
    parent_task_run_id?: string | null;
    deployment_id?: string | null;
    work_pool?: string | null;
    worker?: string | null;
    heartbeat?: string | null;
    task_runs?: IDescribeTaskRun[];
    states?: IDescribeState[];
    task_states?: IDescribeState[];
    logs?: IDescribeLog[];
    edges?: IDescribeEdge[];
  }

  export interface IListFlowRunsQuery {
    flow_name?: string;
    deployment_id?: string;
    state?: string[];
    tags?: string[];
    since?: string;
    until?: string;
    limit?: number;
    offset?: number;
  }

  export interface IListFlowRunsResponse {
    items: IDescribeFlowRun[];
    total: number;
    limit: number;
    offset: number;
  }

  export interface IItems<T> {
    items: T[];
  }

  /** A node of `layout_graph` (plus `details` for single runs). */
  export interface IGraphNode {
    id: string;
    label: string;
    x: number;
    y: number;
    layer: number;
    state: string;
    count: number;
    states: Record<string, number>;
    members: string[];
    details?: {
      task_name?: string | null;
      message?: string | null;
      run_count?: number | null;
      start?: string | null;
      end?: string | null;
      subflow_run_id?: string | null;
    };
  }

  export interface IGraphLayout {
    nodes: IGraphNode[];
    edges: { source: string; target: string }[];
    width: number;
    height: number;
  }

  export interface ISchedule {
    id?: string;
    cron?: string | null;
    interval_seconds?: number | null;
    anchor_date?: string | null;
    date?: string | null;
    timezone?: string;
    active?: boolean;
  }

  export interface ICreateDeployment {
    name: string;
    entrypoint: string;
    parameters?: Record<string, unknown>;
    tags?: string[];
    description?: string;
    version?: string;
    work_pool?: string;
    schedules?: ISchedule[];
    missed_runs?: 'skip' | 'run_once';
    paused?: boolean;
  }

  /** A JSON schema of a deployment's parameters. */
  export interface IParameterSchema {
    type?: string;
    properties?: Record<string, IParameterProperty>;
    required?: string[];
  }

  export interface IParameterProperty {
    type?: string | string[];
    title?: string;
    default?: unknown;
    description?: string;
    enum?: unknown[];
  }

  export interface IDescribeDeployment extends ICreateDeployment {
    id: string;
    kind: 'notebook' | 'python';
    parameter_schema?: IParameterSchema;
    created: string;
    updated: string;
    next_run_time?: string | null;
    schedules: ISchedule[];
    paused: boolean;
  }

  export interface IListDeploymentsResponse {
    items: IDescribeDeployment[];
    total: number;
  }

  export interface ICreateDeploymentRun {
    parameters?: Record<string, unknown>;
    tags?: string[];
  }

  export interface ISchedulePreview {
    cron?: string;
    interval_seconds?: number;
    timezone?: string;
    n: number;
  }

  export interface INotebookParameter {
    name: string;
    type?: string | null;
    default?: unknown;
  }

  export interface IDescribeWorkPool {
    name: string;
    type: string;
    concurrency_limit?: number | null;
    paused: boolean;
    description?: string | null;
    created?: string;
  }

  export interface IDescribeWorker {
    name: string;
    work_pool: string;
    last_heartbeat: string;
    status: 'online' | 'offline';
  }

  /** Events named like `event` (a glob) whose payload has `match`. */
  export interface IEventTrigger {
    event: string;
    match: Record<string, unknown>;
    threshold: number;
    within_seconds?: number | null;
  }

  export interface IAutomationAction {
    type: 'run-deployment' | 'pause-deployment' | 'resume-deployment';
    deployment: string;
    parameters: Record<string, unknown>;
    tags: string[];
  }

  export interface ICreateAutomation {
    name: string;
    description?: string | null;
    enabled?: boolean;
    trigger: IEventTrigger;
    action: IAutomationAction;
  }

  export interface IUpdateAutomation {
    description?: string | null;
    enabled?: boolean | null;
    trigger?: IEventTrigger | null;
    action?: IAutomationAction | null;
  }

  export interface IDescribeAutomation {
    id: string;
    name: string;
    description?: string | null;
    enabled: boolean;
    trigger: IEventTrigger;
    action: IAutomationAction;
    fired_count: number;
    last_fired?: string | null;
    created: string;
    updated: string;
  }

  export interface ICreateEvent {
    event: string;
    resource?: string | null;
    payload?: Record<string, unknown>;
  }

  /**
   * An event; `automation.triggered` / `automation.failed` have the payload
   * {automation, action, deployment, cause, flow_run_id?, error?}.
   */
  export interface IDescribeEvent {
    id: number;
    event: string;
    resource?: string | null;
    payload: Record<string, unknown>;
    occurred: string;
  }

  export interface IListEventsQuery {
    /** A name or glob, e.g. `flow-run.*`. */
    event?: string;
    after_id?: number;
    limit?: number;
  }
}

/**
 * The filters of the run list.
 */
export interface IRunFilter {
  flowName: string;
  state: string;
  tags: string;
  deploymentId: string;
}

/**
 * What the panel shows; kept fresh by one shared poll.
 */
export interface IFlowsModel {
  readonly changed: ISignal<IFlowsModel, void>;
  /** Emitted after every poll tick, for open run views. */
  readonly ticked: ISignal<IFlowsModel, void>;
  readonly runs: Flows.IDescribeFlowRun[];
  readonly totalRuns: number;
  readonly flows: Flows.IDescribeFlow[];
  readonly deployments: Flows.IDescribeDeployment[];
  readonly workPools: Flows.IDescribeWorkPool[];
  readonly workers: Flows.IDescribeWorker[];
  readonly automations: Flows.IDescribeAutomation[];
  /** The latest `automation.*` events, newest first. */
  readonly automationEvents: Flows.IDescribeEvent[];
  /** Why the deployments/work pools part is unavailable, if it is. */
  readonly orchestrationError: string | null;
  readonly error: string | null;
  readonly loading: boolean;
  filter: IRunFilter;
  loadMore(): Promise<void>;
  refresh(): Promise<void>;
  /** Show a deployment changed by an action before the next poll. */
  updateDeployment(deployment: Flows.IDescribeDeployment): void;
  /** Show an automation changed by an action before the next poll. */
  updateAutomation(automation: Flows.IDescribeAutomation): void;
}

/**
 * The jupyter-flows model token.
 */
export const IFlowsModel = new Token<IFlowsModel>(
  'jupyter-flows:IFlowsModel',
  'The runs, deployments, automations and work pools shown in the Flows panel.'
);
