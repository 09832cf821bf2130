/**
 * The one request path to the jupyter-flows server extension.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { RunViews } from './runTypes';
import { Flows } from './tokens';

/**
 * Call the jupyter-flows REST API.
 *
 * @param endPoint - the route under `jupyter-flows/api/` (with its query)
 * @param init - the fetch options
 * @param settings - the server connection settings
 * @returns the parsed JSON body, the text of a non-JSON body, or undefined for 204
 * @throws ServerConnection.NetworkError when the server cannot be reached
 * @throws ServerConnection.ResponseError with the server's `message` otherwise
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'jupyter-flows', 'api', endPoint);
  // 'no-cache' revalidates every poll (ETag -> 304) and, unlike the default
  // 'no-store', adds no "?<timestamp>" cache buster that strict query models reject
  const request = { cache: 'no-cache' as RequestCache, ...init };
  // makeRequest throws ServerConnection.NetworkError when the server is unreachable
  const response = await ServerConnection.makeRequest(url, request, settings);
  const text = await response.text();
  const isJSON = (response.headers.get('Content-Type') ?? '').includes('json');
  let data: any = text;
  if (text.length > 0 && isJSON) {
    try {
      data = JSON.parse(text);
    } catch (error) {
      console.warn('jupyter-flows: not a JSON response', response, error);
    }
  }
  if (!response.ok) {
    const message =
      typeof data === 'object' && data !== null && data.message
        ? // tornado escapes a literal % of the message as %% (no %-args here)
          String(data.message).replace(/%%/g, '%')
        : `${response.status} ${response.statusText || 'error'}`;
    throw new ServerConnection.ResponseError(response, message);
  }
  return (response.status === 204 ? undefined : data) as T;
}

/**
 * The message to show for an error of `requestAPI` (or anything else).
 */
export function errorMessage(error: unknown): string {
  if (error instanceof ServerConnection.NetworkError) {
    return 'Cannot reach the Jupyter server (network error).';
  }
  if (error instanceof ServerConnection.ResponseError) {
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The HTTP status of a failed request, if it got a response.
 */
export function errorStatus(error: unknown): number | null {
  return error instanceof ServerConnection.ResponseError
    ? error.response.status
    : null;
}

function query(params: Record<string, unknown>): string {
  const args: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    const text = Array.isArray(value) ? value.join(',') : String(value);
    if (text) {
      args[key] = text;
    }
  }
  return URLExt.objectToQueryString(args);
}

function json(method: string, body?: unknown): RequestInit {
  return {
    method,
    body: body === undefined ? undefined : JSON.stringify(body)
  };
}

/**
 * Typed calls of the REST routes (docs/rest-api.md), all through `requestAPI`.
 */
export namespace FlowsAPI {
  const id = encodeURIComponent;

  export function health(): Promise<Flows.IHealth> {
    return requestAPI('health');
  }

  export async function flows(): Promise<Flows.IDescribeFlow[]> {
    return (await requestAPI<Flows.IListFlowsResponse>('flows')).items;
  }

  export function flowRuns(
    q: Flows.IListFlowRunsQuery
  ): Promise<Flows.IListFlowRunsResponse> {
    return requestAPI(`flow_runs${query({ ...q })}`);
  }

  /** The run detail: task runs counted (listed only for small runs), no logs. */
  export function flowRun(
    runId: string
  ): Promise<RunViews.IDescribeFlowRunDetail> {
    return requestAPI(`flow_runs/${id(runId)}`);
  }

  export function taskRuns(
    runId: string,
    q: RunViews.IListTaskRunsQuery
  ): Promise<RunViews.IListTaskRunsResponse> {
    return requestAPI(`flow_runs/${id(runId)}/task_runs${query({ ...q })}`);
  }

  /** One task run and its state history (the graph's details pane). */
  export function taskRun(
    taskRunId: string
  ): Promise<RunViews.IDescribeTaskRunDetail> {
    return requestAPI(`task_runs/${id(taskRunId)}`);
  }

  export function graph(runId: string): Promise<RunViews.IGraphLayout> {
    return requestAPI(`flow_runs/${id(runId)}/graph`);
  }

  /** A page of log lines (tail-follow with `after_id`, page back with `before_id`). */
  export function logs(
    runId: string,
    q: RunViews.IListLogsQuery
  ): Promise<RunViews.IListLogsResponse> {
    return requestAPI(`flow_runs/${id(runId)}/logs${query({ ...q })}`);
  }

  export function cancel(runId: string): Promise<RunViews.IDescribeRunState> {
    return requestAPI(`flow_runs/${id(runId)}/cancel`, json('POST', {}));
  }

  export function pause(runId: string): Promise<Flows.IDescribePause> {
    return requestAPI(`flow_runs/${id(runId)}/pause`);
  }

  export function resume(
    runId: string,
    runInput: Record<string, unknown> | null
  ): Promise<RunViews.IDescribeRunState> {
    return requestAPI(
      `flow_runs/${id(runId)}/resume`,
      json('POST', { run_input: runInput })
    );
  }

  /** A new run retrying a failed deployment run from its failure. */
  export function retry(runId: string): Promise<Flows.IDescribeFlowRun> {
    return requestAPI(`flow_runs/${id(runId)}/retry`, json('POST', {}));
  }

  export function report(runId: string): Promise<string> {
    return requestAPI(`flow_runs/${id(runId)}/report?format=html`);
  }

  export function output(runId: string): Promise<unknown> {
    return requestAPI(`flow_runs/${id(runId)}/output`);
  }

  export function deployments(): Promise<Flows.IListDeploymentsResponse> {
    return requestAPI(`deployments${query({ limit: 200 })}`);
  }

  export function createDeployment(
    body: Flows.ICreateDeployment
  ): Promise<Flows.IDescribeDeployment> {
    return requestAPI('deployments', json('POST', body));
  }

  export function setPaused(
    deploymentId: string,
    paused: boolean
  ): Promise<Flows.IDescribeDeployment> {
    const action = paused ? 'pause' : 'resume';
    return requestAPI(
      `deployments/${id(deploymentId)}/${action}`,
      json('POST', {})
    );
  }

  export function runDeployment(
    deploymentId: string,
    body: Flows.ICreateDeploymentRun
  ): Promise<Flows.IDescribeFlowRun> {
    return requestAPI(
      `deployments/${id(deploymentId)}/run`,
      json('POST', body)
    );
  }

  export async function previewSchedule(
    body: Flows.ISchedulePreview
  ): Promise<string[]> {
    const path = 'schedules/preview';
    return (
      await requestAPI<Flows.IListRunTimesResponse>(path, json('POST', body))
    ).items;
  }

  export async function notebookParameters(
    path: string
  ): Promise<Flows.INotebookParameter[]> {
    const reply = await requestAPI<Flows.INotebookParametersResponse>(
      'notebooks/parameters',
      json('POST', { path })
    );
    return reply.parameters;
  }

  export async function automations(): Promise<Flows.IDescribeAutomation[]> {
    const path = 'automations';
    return (await requestAPI<Flows.IListAutomationsResponse>(path)).items;
  }

  export function setAutomationEnabled(
    automationId: string,
    enabled: boolean
  ): Promise<Flows.IDescribeAutomation> {
    return requestAPI(
      `automations/${id(automationId)}`,
      json('PATCH', { enabled })
    );
  }

  /** Events, newest first. */
  export async function events(
    q: Flows.IListEventsQuery = {}
  ): Promise<Flows.IDescribeEvent[]> {
    const path = `events${query({ ...q })}`;
    return (await requestAPI<Flows.IListEventsResponse>(path)).items;
  }

  /** The dashboard's aggregates of the window [since, until). */
  export function dashboard(
    q: Flows.IReadDashboardQuery
  ): Promise<Flows.IDescribeDashboard> {
    return requestAPI(`dashboard${query({ ...q })}`);
  }

  /** Artifacts, newest first (`latest`: the newest version of each key). */
  export function artifacts(
    q: Flows.IListArtifactsQuery
  ): Promise<Flows.IListArtifactsResponse> {
    return requestAPI(`artifacts${query({ ...q })}`);
  }

  export async function concurrencyLimits(): Promise<
    Flows.IDescribeConcurrencyLimit[]
  > {
    const path = `concurrency_limits${query({ limit: 200 })}`;
    return (await requestAPI<Flows.IListConcurrencyLimitsResponse>(path)).items;
  }

  export function createConcurrencyLimit(
    body: Flows.ICreateConcurrencyLimit
  ): Promise<Flows.IDescribeConcurrencyLimit> {
    return requestAPI('concurrency_limits', json('POST', body));
  }

  export function updateConcurrencyLimit(
    name: string,
    body: Flows.IUpdateConcurrencyLimit
  ): Promise<Flows.IDescribeConcurrencyLimit> {
    return requestAPI(`concurrency_limits/${id(name)}`, json('PATCH', body));
  }

  /** Free every slot of the limit (its holders' leases end). */
  export function resetConcurrencyLimit(
    name: string
  ): Promise<Flows.IDescribeConcurrencyLimit> {
    return requestAPI(`concurrency_limits/${id(name)}/reset`, json('POST', {}));
  }

  export function deleteConcurrencyLimit(name: string): Promise<void> {
    return requestAPI(`concurrency_limits/${id(name)}`, json('DELETE'));
  }

  export function setVariable(
    name: string,
    body: Flows.ISetVariable
  ): Promise<Flows.IDescribeVariable> {
    return requestAPI(`variables/${id(name)}`, json('PUT', body));
  }

  export function deleteVariable(name: string): Promise<void> {
    return requestAPI(`variables/${id(name)}`, json('DELETE'));
  }

  /**
   * Save a block document; the reply has its secret fields masked, and the
   * panel drops it: what it shows comes from the (masked) list.
   */
  export async function saveBlock(
    slug: string,
    name: string,
    body: Flows.ISaveBlockDocument
  ): Promise<void> {
    await requestAPI(
      `block_documents/${id(slug)}/${id(name)}`,
      json('PUT', body)
    );
  }

  export function deleteBlock(slug: string, name: string): Promise<void> {
    return requestAPI(
      `block_documents/${id(slug)}/${id(name)}`,
      json('DELETE')
    );
  }

  export async function variables(): Promise<Flows.IDescribeVariable[]> {
    const path = `variables${query({ limit: 200 })}`;
    return (await requestAPI<Flows.IListVariablesResponse>(path)).items;
  }

  /** Block documents with their secret fields masked (never asks for them). */
  export async function blocks(): Promise<Flows.IDescribeBlockDocument[]> {
    const path = `block_documents${query({ limit: 200 })}`;
    return (await requestAPI<Flows.IListBlockDocumentsResponse>(path)).items;
  }

  export async function workPools(): Promise<Flows.IDescribeWorkPool[]> {
    return (await requestAPI<Flows.IListWorkPoolsResponse>('work_pools')).items;
  }

  export async function workers(): Promise<Flows.IDescribeWorker[]> {
    return (await requestAPI<Flows.IListWorkersResponse>('workers')).items;
  }
}
