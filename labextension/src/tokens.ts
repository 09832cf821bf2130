/**
 * Tokens, command ids and the REST API types of jupyter-flows.
 *
 * The `Flows` types are generated from the server's OpenAPI document
 * (`src/generated/api.ts`, `jlpm gen:api`); see docs/rest-api.md.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import type { components } from './generated/api';

/**
 * The command ids of jupyter-flows.
 */
export namespace CommandIDs {
  export const openPanel = 'jupyter-flows:open-panel';
  export const refresh = 'jupyter-flows:refresh';
  export const openRun = 'jupyter-flows:open-run';
  export const cancelRun = 'jupyter-flows:cancel-run';
  export const retryRun = 'jupyter-flows:retry-run';
  export const downloadReport = 'jupyter-flows:download-report';
  export const openOutput = 'jupyter-flows:open-output';
  export const runDeployment = 'jupyter-flows:run-deployment';
  export const toggleDeployment = 'jupyter-flows:toggle-deployment';
  export const toggleAutomation = 'jupyter-flows:toggle-automation';
  export const scheduleNotebook = 'jupyter-flows:schedule-notebook';
  export const openDeployment = 'jupyter-flows:open-deployment';
  export const newAutomation = 'jupyter-flows:new-automation';
  export const deleteAutomation = 'jupyter-flows:delete-automation';
  export const openDashboard = 'jupyter-flows:open-dashboard';
  export const openEvents = 'jupyter-flows:open-events';
  /** Open the run named by a `?flows-run=<id>` URL (the router's command). */
  export const openRunFromUrl = 'jupyter-flows:open-run-from-url';
  export const copyRunLink = 'jupyter-flows:copy-run-link';
}

type Schemas = components['schemas'];

/**
 * A schema as the server sends it: every field present, also nested.
 *
 * The document's schemas are the models' validation schemas, where a field
 * with a default is optional (true of a request); a reply is a whole
 * `model_dump_json()`, so it has every field.
 */
export type Reply<T> = T extends (infer U)[]
  ? Reply<U>[]
  : T extends object
    ? { [K in keyof T]-?: Reply<T[K]> }
    : T;

/**
 * The API types, aliases of the generated ones (`jlpm gen:api`), named by
 * verb like the server models. Requests and queries are the schemas as they
 * are; replies are `Reply<...>`.
 */
export namespace Flows {
  /** Coarse state kinds (`StateType`); `state_name` refines them. */
  export type StateType = Schemas['StateType'];

  export type IHealth = Reply<Schemas['DescribeHealth']>;
  export type IDescribeFlow = Reply<Schemas['DescribeFlow']>;
  export type IListFlowsResponse = Reply<Schemas['ListFlowsResponse']>;
  export type IDescribeState = Reply<Schemas['DescribeState']>;
  export type IDescribeLog = Reply<Schemas['DescribeLog']>;
  export type IDescribeEdge = Reply<Schemas['DescribeEdge']>;
  export type IDescribeTaskRun = Reply<Schemas['DescribeTaskRun']>;
  /** A run as the run list has it (no task runs, states, logs or edges). */
  export type IDescribeFlowRunItem = Reply<Schemas['DescribeFlowRunItem']>;
  export type IDescribeFlowRun = Reply<Schemas['DescribeFlowRun']>;
  /** The columns flow and task runs share (the server's `_RunColumns`). */
  export type IRunColumns = Pick<
    IDescribeTaskRun,
    keyof IDescribeTaskRun & keyof IDescribeFlowRunItem
  >;
  export type IListFlowRunsQuery = Schemas['ListFlowRunsQuery'];
  export type IListFlowRunsResponse = Reply<Schemas['ListFlowRunsResponse']>;

  export type ISchedule = Schemas['ScheduleSpec'];
  export type ICreateDeployment = Schemas['CreateDeployment'];
  export type IDescribeDeployment = Reply<Schemas['DescribeDeployment']>;
  export type IListDeploymentsResponse = Reply<
    Schemas['ListDeploymentsResponse']
  >;
  export type ICreateDeploymentRun = Schemas['CreateDeploymentRun'];
  export type ISchedulePreview = Schemas['SchedulePreview'];
  export type IListRunTimesResponse = Reply<Schemas['ListRunTimesResponse']>;
  export type INotebookParameter = Reply<Schemas['NotebookParameter']>;
  export type INotebookParametersResponse = Reply<
    Schemas['NotebookParametersResponse']
  >;

  /**
   * A deployment's `parameter_schema`: a JSON schema, which the document
   * types as a free-form object.
   */
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

  export type IDescribeWorkPool = Reply<Schemas['DescribeWorkPool']>;
  export type IListWorkPoolsResponse = Reply<Schemas['ListWorkPoolsResponse']>;
  export type IDescribeWorker = Reply<Schemas['DescribeWorker']>;
  export type IListWorkersResponse = Reply<Schemas['ListWorkersResponse']>;

  /** Events named like `event` (a glob) whose payload has `match`. */
  export type IEventTrigger = Schemas['EventTrigger'];
  export type IAutomationAction = Schemas['CreateAutomation']['action'];
  export type ICreateAutomation = Schemas['CreateAutomation'];
  export type IUpdateAutomation = Schemas['UpdateAutomation'];
  export type IDescribeAutomation = Reply<Schemas['DescribeAutomation']>;
  export type IListAutomationsResponse = Reply<
    Schemas['ListAutomationsResponse']
  >;
  export type ICreateEvent = Schemas['CreateEvent'];
  /**
   * An event; `automation.triggered` / `automation.failed` have the payload
   * {automation, action, deployment, cause, flow_run_id?, error?}.
   */
  export type IDescribeEvent = Reply<Schemas['DescribeEvent']>;
  /** `data`: markdown text (markdown, links), the table as JSON text, an image URL, a percentage. */
  export type IDescribeArtifact = Reply<Schemas['DescribeArtifact']>;
  export type IListArtifactsQuery = Schemas['ListArtifactsQuery'];
  export type IListArtifactsResponse = Reply<Schemas['ListArtifactsResponse']>;
  export type IDescribeVariable = Reply<Schemas['DescribeVariable']>;
  /** What a paused run waits for (`input_schema`; null: just a resume). */
  export type IDescribePause = Reply<Schemas['DescribePause']>;
  export type IListVariablesResponse = Reply<Schemas['ListVariablesResponse']>;
  /** Secret fields are masked (`********`) by the server. */
  export type IDescribeBlockDocument = Reply<Schemas['DescribeBlockDocument']>;
  export type IListBlockDocumentsResponse = Reply<
    Schemas['ListBlockDocumentsResponse']
  >;
  /** A limit with its active slots and the leases that hold them. */
  export type IDescribeConcurrencyLimit = Reply<
    Schemas['DescribeConcurrencyLimit']
  >;
  export type IListConcurrencyLimitsResponse = Reply<
    Schemas['ListConcurrencyLimitsResponse']
  >;
  export type ICreateConcurrencyLimit = Schemas['CreateConcurrencyLimit'];
  export type IUpdateConcurrencyLimit = Schemas['UpdateConcurrencyLimit'];
  export type ISetVariable = Schemas['SetVariable'];
  export type ISaveBlockDocument = Schemas['SaveBlockDocument'];
  export type IListEventsQuery = Schemas['ListEventsQuery'];
  export type IListEventsResponse = Reply<Schemas['ListEventsResponse']>;
  export type IReadDashboardQuery = Schemas['ReadDashboardQuery'];
  /** The aggregates of a time window (`GET api/dashboard`). */
  export type IDescribeDashboard = Reply<Schemas['DescribeDashboard']>;
  export type IDashboardGroup = Reply<Schemas['DashboardGroup']>;
  export type IDashboardRun = Reply<Schemas['DashboardRun']>;
}

/**
 * The filters of the run list.
 */
export interface IRunFilter {
  flowName: string;
  state: string;
  tags: string;
  deploymentId: string;
  /** Part of the run's or its flow's name (any case). */
  name: string;
  /** A run kind (`interactive`, `scheduled`, `manual`, `subflow`), or all. */
  kind: string;
  /** Created on or after this local date (`YYYY-MM-DD`), or any time. */
  since: string;
  /** Created on or before this local date (inclusive), or any time. */
  until: string;
}

/**
 * What the panel shows; kept fresh by one shared poll.
 */
export interface IFlowsModel {
  readonly changed: ISignal<IFlowsModel, void>;
  /** Emitted after every poll tick, for open run views. */
  readonly ticked: ISignal<IFlowsModel, void>;
  readonly runs: Flows.IDescribeFlowRunItem[];
  readonly totalRuns: number;
  readonly flows: Flows.IDescribeFlow[];
  readonly deployments: Flows.IDescribeDeployment[];
  readonly workPools: Flows.IDescribeWorkPool[];
  readonly workers: Flows.IDescribeWorker[];
  readonly automations: Flows.IDescribeAutomation[];
  /** The newest version of each artifact key, newest first. */
  readonly artifacts: Flows.IDescribeArtifact[];
  readonly artifactTotal: number;
  /** Global concurrency limits (task tag limits are those named `tag:TAG`). */
  readonly concurrencyLimits: Flows.IDescribeConcurrencyLimit[];
  readonly variables: Flows.IDescribeVariable[];
  /** Block documents, secret fields masked. */
  readonly blocks: Flows.IDescribeBlockDocument[];
  /** The newest failed or crashed scheduled runs (for the toasts). */
  readonly failedScheduledRuns: Flows.IDescribeFlowRunItem[];
  /** The latest `automation.*` events, newest first. */
  readonly automationEvents: Flows.IDescribeEvent[];
  /** Why the deployments/work pools part is unavailable, if it is. */
  readonly orchestrationError: string | null;
  readonly error: string | null;
  readonly loading: boolean;
  filter: IRunFilter;
  /** The loaded subflow runs of the expanded runs, by parent id. */
  readonly subflows: ReadonlyMap<string, Flows.IDescribeFlowRunItem[]>;
  /** The runs whose subflow runs the list shows (re-read by the poll). */
  readonly expanded: ReadonlySet<string>;
  /** Show or hide a run's subflow runs under it. */
  toggleSubflows(id: string): Promise<void>;
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
