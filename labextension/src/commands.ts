/**
 * The commands of the Flows panel and run views (wired by the plugins).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  MainAreaWidget,
  Notification,
  showDialog,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig, PathExt, URLExt } from '@jupyterlab/coreutils';
import { INotebookTracker } from '@jupyterlab/notebook';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { refreshIcon } from '@jupyterlab/ui-components';

import { errorMessage, FlowsAPI } from './api';
import { flowsIcon, scheduleIcon } from './icons';
import { CommandIDs, IFlowsModel } from './tokens';
import { runDeploymentDialog } from './widgets/RunDialog';
import { createRunWidget, RunView } from './widgets/RunView';
import { scheduleNotebookDialog } from './widgets/ScheduleDialog';

/** Where copies of output notebooks are opened from. */
const OUTPUTS_DIR = 'flow-run-outputs';

export type RunTracker = WidgetTracker<MainAreaWidget<RunView>>;

/** The URL parameter of a link to a run (`/lab?flows-run=<id>`). */
export const RUN_LINK_PARAM = 'flows-run';

/** A JupyterLab URL that opens this run's view. */
export function runLink(id: string): string {
  const lab = URLExt.join(
    PageConfig.getBaseUrl(),
    PageConfig.getOption('appUrl') || 'lab'
  );
  return `${lab}?${RUN_LINK_PARAM}=${encodeURIComponent(id)}`;
}

/** Run `action`; show (never swallow) what went wrong. */
async function reporting<T>(
  what: string,
  action: () => Promise<T>
): Promise<T | undefined> {
  try {
    return await action();
  } catch (error) {
    Notification.error(`${what}: ${errorMessage(error)}`, { autoClose: 8000 });
    console.error(`jupyter-flows: ${what}`, error);
    return undefined;
  }
}

function idOf(args: Record<string, unknown>): string {
  const id = args.id;
  if (typeof id !== 'string' || !id) {
    throw new Error('no id was given');
  }
  return id;
}

/** The deployment or automation with this id (or name). */
function find<T extends { id: string; name: string }>(
  items: T[],
  id: string,
  what: string
): T {
  const found = items.find(item => item.id === id || item.name === id);
  if (!found) {
    throw new Error(`no ${what} ${id}`);
  }
  return found;
}

function download(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * Commands of the side panel and run views: open, refresh, cancel,
 * report, output notebook, run/pause deployments, enable/disable automations.
 */
export function addPanelCommands(
  app: JupyterFrontEnd,
  model: IFlowsModel,
  tracker: RunTracker,
  panelId: string,
  rendermime: IRenderMimeRegistry | null = null
): void {
  const { commands, shell } = app;

  commands.addCommand(CommandIDs.openPanel, {
    label: 'Show Flows Panel',
    icon: flowsIcon,
    execute: () => shell.activateById(panelId)
  });

  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh Flows',
    icon: refreshIcon,
    execute: async () => {
      await model.refresh();
      await Promise.all(
        tracker.filter(() => true).map(w => w.content.model.refresh())
      );
    }
  });

  commands.addCommand(CommandIDs.openRun, {
    label: args => (args.id ? `Open Flow Run ${args.id}` : 'Open Flow Run'),
    icon: flowsIcon,
    execute: args => {
      const id = idOf(args);
      const open = tracker.find(w => w.content.model.runId === id);
      if (open) {
        shell.activateById(open.id);
        return open;
      }
      const widget = createRunWidget(id, model, commands, rendermime);
      void tracker.add(widget);
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      return widget;
    }
  });

  commands.addCommand(CommandIDs.openRunFromUrl, {
    label: 'Open Flow Run from the URL',
    execute: args => {
      const search = typeof args.search === 'string' ? args.search : '';
      const id = new URLSearchParams(search).get(RUN_LINK_PARAM);
      return id ? commands.execute(CommandIDs.openRun, { id }) : undefined;
    }
  });

  commands.addCommand(CommandIDs.copyRunLink, {
    label: 'Copy Link to Flow Run',
    execute: args => {
      const link = runLink(idOf(args));
      Clipboard.copyToSystem(link);
      Notification.success(`Copied ${link}`, { autoClose: 4000 });
      return link;
    }
  });

  commands.addCommand(CommandIDs.cancelRun, {
    label: 'Cancel Flow Run',
    execute: args =>
      reporting('Cancelling the run failed', async () => {
        const id = idOf(args);
        const answer = await showDialog({
          title: 'Cancel this flow run?',
          body: 'Running tasks are stopped; the run ends as Cancelled.',
          buttons: [
            Dialog.cancelButton({ label: 'Keep running' }),
            Dialog.warnButton({ label: 'Cancel run' })
          ]
        });
        if (!answer.button.accept) {
          return;
        }
        const run = await FlowsAPI.cancel(id);
        tracker
          .filter(w => w.content.model.runId === id)
          .forEach(w => w.content.model.update(run));
        await model.refresh();
      })
  });

  commands.addCommand(CommandIDs.retryRun, {
    label: 'Retry Flow Run from Its Failure',
    execute: args =>
      reporting('Retrying the run failed', async () => {
        const retry = await FlowsAPI.retry(idOf(args));
        Notification.info(`Retrying as ${retry.name}`, { autoClose: 4000 });
        await model.refresh();
        await commands.execute(CommandIDs.openRun, { id: retry.id });
      })
  });

  commands.addCommand(CommandIDs.downloadReport, {
    label: 'Download Flow Run Report',
    execute: args =>
      reporting('Downloading the report failed', async () => {
        const id = idOf(args);
        const html = await FlowsAPI.report(id);
        download(`flow-run-${id}.html`, html, 'text/html');
      })
  });

  commands.addCommand(CommandIDs.openOutput, {
    label: 'Open Output Notebook of Flow Run',
    execute: args =>
      reporting('Opening the output notebook failed', async () => {
        const id = idOf(args);
        const reply = await FlowsAPI.output(id);
        const content = typeof reply === 'string' ? JSON.parse(reply) : reply;
        const contents = app.serviceManager.contents;
        await contents
          .get(OUTPUTS_DIR, { content: false })
          .catch(() => contents.save(OUTPUTS_DIR, { type: 'directory' }));
        const path = PathExt.join(OUTPUTS_DIR, `flow-run-${id}.ipynb`);
        await contents.save(path, {
          type: 'notebook',
          format: 'json',
          content
        });
        await commands.execute('docmanager:open', { path });
      })
  });

  commands.addCommand(CommandIDs.runDeployment, {
    label: 'Run Deployment Now',
    execute: args =>
      reporting('Starting the run failed', async () => {
        const deployment = find(model.deployments, idOf(args), 'deployment');
        const run = await runDeploymentDialog(deployment);
        if (run) {
          Notification.success(`Started ${run.name} of ${deployment.name}.`, {
            autoClose: 5000,
            actions: [
              {
                label: 'Open',
                callback: () =>
                  void commands.execute(CommandIDs.openRun, { id: run.id })
              }
            ]
          });
          await model.refresh();
        }
      })
  });

  commands.addCommand(CommandIDs.toggleDeployment, {
    label: 'Pause or Resume Deployment',
    execute: args =>
      reporting('Changing the deployment failed', async () => {
        const deployment = find(model.deployments, idOf(args), 'deployment');
        const updated = await FlowsAPI.setPaused(
          deployment.id,
          !deployment.paused
        );
        model.updateDeployment(updated);
      })
  });

  commands.addCommand(CommandIDs.toggleAutomation, {
    label: 'Enable or Disable Automation',
    execute: args =>
      reporting('Changing the automation failed', async () => {
        const automation = find(model.automations, idOf(args), 'automation');
        const updated = await FlowsAPI.setAutomationEnabled(
          automation.id,
          !automation.enabled
        );
        model.updateAutomation(updated);
      })
  });
}

/**
 * "Schedule this notebook" for the current notebook.
 */
export function addScheduleCommand(
  app: JupyterFrontEnd,
  model: IFlowsModel,
  notebooks: INotebookTracker
): void {
  const { commands } = app;
  const current = () => notebooks.currentWidget;
  commands.addCommand(CommandIDs.scheduleNotebook, {
    label: 'Schedule This Notebook',
    caption: 'Create a jupyter-flows deployment that runs this notebook',
    icon: args => (args.isPalette ? undefined : scheduleIcon),
    isEnabled: () => !!current(),
    execute: () =>
      reporting('Scheduling the notebook failed', async () => {
        const panel = current();
        if (!panel) {
          throw new Error('no notebook is open');
        }
        await panel.context.ready;
        if (panel.context.model.dirty) {
          await panel.context.save();
        }
        const pools = model.workPools.map(p => p.name);
        const deployment = await scheduleNotebookDialog(
          panel.context.localPath,
          pools
        );
        if (deployment) {
          Notification.success(`Created deployment ${deployment.name}.`, {
            autoClose: 5000
          });
          await model.refresh();
        }
      })
  });
  notebooks.currentChanged.connect(() =>
    commands.notifyCommandChanged(CommandIDs.scheduleNotebook)
  );
}
