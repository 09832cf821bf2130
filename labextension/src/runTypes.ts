/**
 * The REST types of a run view's bounded reads (detail, task-run and log
 * pages, the graph aggregated by task): aliases of the generated ones.
 */
import type { components } from './generated/api';
import type { Reply } from './tokens';

type Schemas = components['schemas'];

export namespace RunViews {
  /** `GET flow_runs/{id}`: the run, its own states, its task runs counted. */
  export type IDescribeFlowRunDetail = Reply<Schemas['DescribeFlowRunDetail']>;
  /** `POST flow_runs/{id}/cancel`: the light state of the run. */
  export type IDescribeRunState = Reply<Schemas['DescribeRunState']>;
  /** `GET flow_runs/{id}/task_runs`: oldest first. */
  export type IListTaskRunsQuery = Schemas['ListTaskRunsQuery'];
  export type IListTaskRunsResponse = Reply<Schemas['ListTaskRunsResponse']>;
  /** `GET flow_runs/{id}/logs`: a page of log lines in id order. */
  export type IListLogsQuery = Schemas['ListLogsQuery'];
  export type IListLogsResponse = Reply<Schemas['ListLogsResponse']>;
  export type IGraphNode = Reply<Schemas['GraphNode']>;
  /** `GET task_runs/{id}`: a task run and its states, oldest first. */
  export type IDescribeTaskRunDetail = Reply<Schemas['DescribeTaskRunDetail']>;
  /** `GET flow_runs/{id}/graph`; `aggregated`: one node per task. */
  export type IGraphLayout = Reply<Schemas['DescribeGraph']>;
}
