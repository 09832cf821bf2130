/**
 * The REST calls and types of the deployment, work pool and automation
 * pages (docs/rest-api.md), all through the one `requestAPI`.
 */
import { requestAPI } from './api';
import type { components } from './generated/api';
import { Flows, Reply } from './tokens';

type Schemas = components['schemas'];

export namespace Pages {
  export type IUpdateDeployment = Schemas['UpdateDeployment'];
  export type ICreateWorkPool = Schemas['CreateWorkPool'];
  export type IUpdateWorkPool = Schemas['UpdateWorkPool'];
  export type IPreviewAutomation = Schemas['PreviewAutomation'];
  export type IPreviewAutomationResponse = Reply<
    Schemas['PreviewAutomationResponse']
  >;
  export type IAutomationFiring = Reply<Schemas['AutomationFiring']>;
}

function json(method: string, body?: unknown): RequestInit {
  return {
    method,
    body: body === undefined ? undefined : JSON.stringify(body)
  };
}

const id = encodeURIComponent;

export namespace PagesAPI {
  export function deployment(
    idOrName: string
  ): Promise<Flows.IDescribeDeployment> {
    return requestAPI(`deployments/${id(idOrName)}`);
  }

  export function updateDeployment(
    deploymentId: string,
    body: Pages.IUpdateDeployment
  ): Promise<Flows.IDescribeDeployment> {
    return requestAPI(`deployments/${id(deploymentId)}`, json('PATCH', body));
  }

  export function deleteDeployment(deploymentId: string): Promise<void> {
    return requestAPI(`deployments/${id(deploymentId)}`, json('DELETE'));
  }

  export async function nextRuns(
    deploymentId: string,
    n = 5
  ): Promise<string[]> {
    const path = `deployments/${id(deploymentId)}/next_runs?n=${n}`;
    return (await requestAPI<Flows.IListRunTimesResponse>(path)).items;
  }

  export async function recentRuns(
    deploymentId: string,
    limit = 10
  ): Promise<Flows.IListFlowRunsResponse> {
    const path = `flow_runs?deployment_id=${id(deploymentId)}&limit=${limit}`;
    return requestAPI(path);
  }

  export function createWorkPool(
    body: Pages.ICreateWorkPool
  ): Promise<Flows.IDescribeWorkPool> {
    return requestAPI('work_pools', json('POST', body));
  }

  export function updateWorkPool(
    name: string,
    body: Pages.IUpdateWorkPool
  ): Promise<Flows.IDescribeWorkPool> {
    return requestAPI(`work_pools/${id(name)}`, json('PATCH', body));
  }

  export function setWorkPoolPaused(
    name: string,
    paused: boolean
  ): Promise<Flows.IDescribeWorkPool> {
    const action = paused ? 'pause' : 'resume';
    return requestAPI(`work_pools/${id(name)}/${action}`, json('POST', {}));
  }

  export function deleteWorkPool(name: string): Promise<void> {
    return requestAPI(`work_pools/${id(name)}`, json('DELETE'));
  }

  export function createAutomation(
    body: Flows.ICreateAutomation
  ): Promise<Flows.IDescribeAutomation> {
    return requestAPI('automations', json('POST', body));
  }

  export function previewAutomation(
    body: Pages.IPreviewAutomation
  ): Promise<Pages.IPreviewAutomationResponse> {
    return requestAPI('automations/preview', json('POST', body));
  }

  export function deleteAutomation(automationId: string): Promise<void> {
    return requestAPI(`automations/${id(automationId)}`, json('DELETE'));
  }
}
