/**
 * The REST types of a run view's bounded reads (detail, task-run and log
 * pages, the graph aggregated by task), named by verb like the server models
 * (`jupyter_flows.store.schemas`, `jupyter_flows.server.schemas`).
 */
import { Flows } from './tokens';

export namespace RunViews {
  /** `GET flow_runs/{id}`: the run, its own states, its task runs counted. */
  export interface IDescribeFlowRunDetail extends Flows.IDescribeFlowRun {
    states: Flows.IDescribeState[];
    /** Task runs by state type; runs without a state yet under `NONE`. */
    task_run_counts: Record<string, number>;
    task_run_total: number;
    log_total: number;
    /** Every task run (and edge) while there are at most 100; else empty. */
    task_runs: Flows.IDescribeTaskRun[];
    edges: Flows.IDescribeEdge[];
    task_runs_complete: boolean;
  }

  /** `POST flow_runs/{id}/cancel`: the light state of the run. */
  export interface IDescribeRunState {
    id: string;
    state_type?: Flows.StateType | null;
    state_name?: string | null;
    state_message?: string | null;
    worker?: string | null;
    heartbeat?: string | null;
  }

  /** `GET flow_runs/{id}/task_runs`: oldest first. */
  export interface IListTaskRunsQuery {
    /** State types or names, any case. */
    state?: string[];
    task_key?: string;
    limit?: number;
    offset?: number;
    with_states?: boolean;
  }

  export interface IListTaskRunsResponse {
    items: Flows.IDescribeTaskRun[];
    total: number;
    limit: number;
    offset: number;
    /** With `with_states`: the state histories of `items`. */
    states: Flows.IDescribeState[];
  }

  /** `GET flow_runs/{id}/logs`: a page of log lines in id order. */
  export interface IListLogsQuery {
    task_run_id?: string;
    after_id?: number;
    before_id?: number;
    min_level?: number;
    /** The last `limit` matching lines instead of the first. */
    newest?: boolean;
    limit?: number;
  }

  export interface IListLogsResponse {
    /** Oldest first. */
    items: Flows.IDescribeLog[];
    /** More lines match after the last (with `newest`: before the first). */
    has_more: boolean;
  }

  export interface IGraphNode extends Flows.IGraphNode {
    task_key?: string | null;
  }

  /** `GET flow_runs/{id}/graph`; `aggregated`: one node per task. */
  export interface IGraphLayout extends Flows.IGraphLayout {
    nodes: IGraphNode[];
    aggregated: boolean;
    task_run_total: number;
  }
}
