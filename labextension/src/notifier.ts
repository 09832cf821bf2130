/**
 * Toasts for what happened without the user: an automation paused a
 * deployment, a scheduled run failed. Read from the panel's one poll
 * (`IFlowsModel.ticked`); each shown once (a pause once until the deployment
 * runs again), and only what happened after the lab opened (the first tick
 * is the baseline).
 */
import { Notification } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';

import { CommandIDs, Flows, IFlowsModel } from './tokens';

/** The toast of a deployment paused by an automation, or null for other events. */
export function pausedToast(event: Flows.IDescribeEvent): string | null {
  const p = event.payload as Record<string, unknown>;
  if (
    event.event !== 'automation.triggered' ||
    p.action !== 'pause-deployment'
  ) {
    return null;
  }
  const cause = p.cause ? ` after ${String(p.cause)}` : '';
  return `Automation “${String(p.automation)}” paused deployment “${String(p.deployment)}”${cause}.`;
}

/** The toast of a failed scheduled run. */
export function failedToast(
  run: Flows.IDescribeFlowRunItem,
  deployments: Flows.IDescribeDeployment[]
): string {
  const deployment = deployments.find(d => d.id === run.deployment_id);
  const of = deployment ? ` of deployment “${deployment.name}”` : '';
  const state = run.state_name ?? run.state_type ?? 'Failed';
  const why = run.state_message ? `: ${run.state_message}` : '.';
  return `Scheduled run ${run.name}${of} ${state.toLowerCase()}${why}`;
}

export class FlowsNotifier {
  constructor(
    private _model: IFlowsModel,
    private _commands: CommandRegistry
  ) {
    _model.ticked.connect(this._onTick, this);
  }

  private _onTick(): void {
    const model = this._model;
    if (model.error) {
      return; // a failed tick read nothing new
    }
    const first = !this._started;
    this._started = true;
    // a deployment seen running again may be told of as paused again
    for (const d of model.deployments) {
      if (!d.paused) {
        this._pausedTold.delete(d.name);
      }
    }
    for (const event of model.automationEvents) {
      if (this._seenEvents.has(event.id)) {
        continue;
      }
      this._seenEvents.add(event.id);
      const text = first ? null : pausedToast(event);
      const deployment = String(
        (event.payload as Record<string, unknown>).deployment
      );
      // one toast per pause: later failures pausing it again say nothing new
      if (text && !this._pausedTold.has(deployment)) {
        this._pausedTold.add(deployment);
        Notification.warning(text, { autoClose: false });
      }
    }
    for (const run of model.failedScheduledRuns) {
      if (this._seenRuns.has(run.id)) {
        continue;
      }
      this._seenRuns.add(run.id);
      if (!first) {
        Notification.error(failedToast(run, model.deployments), {
          autoClose: false,
          actions: [
            {
              label: 'Open run',
              callback: () =>
                void this._commands.execute(CommandIDs.openRun, { id: run.id })
            }
          ]
        });
      }
    }
  }

  private _started = false;
  private _seenEvents = new Set<number>();
  private _seenRuns = new Set<string>();
  private _pausedTold = new Set<string>();
}
