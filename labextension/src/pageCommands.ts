/**
 * The commands of the deployment, work pool and automation pages.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import {
  MainAreaWidget,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';

import { errorMessage } from './api';
import { confirm } from './components/FormField';
import { flowsIcon } from './icons';
import { PagesAPI } from './pagesApi';
import { CommandIDs, IFlowsModel } from './tokens';
import { createAutomationWidget } from './widgets/AutomationEditor';
import {
  createDeploymentWidget,
  DeploymentView
} from './widgets/DeploymentView';

function idOf(args: Record<string, unknown>): string {
  const id = args.id;
  if (typeof id !== 'string' || !id) {
    throw new Error('no id was given');
  }
  return id;
}

/** Open a deployment's page, a new automation's form; delete an automation. */
export function addPageCommands(
  app: JupyterFrontEnd,
  model: IFlowsModel,
  restorer: ILayoutRestorer | null
): void {
  const { commands, shell } = app;
  const tracker = new WidgetTracker<MainAreaWidget<DeploymentView>>({
    namespace: 'jupyter-flows-deployment'
  });

  commands.addCommand(CommandIDs.openDeployment, {
    label: 'Open Deployment',
    icon: flowsIcon,
    execute: args => {
      const id = idOf(args);
      const open = tracker.find(w => w.content.deploymentId === id);
      if (open) {
        shell.activateById(open.id);
        return open;
      }
      const widget = createDeploymentWidget(id, model, commands);
      void tracker.add(widget);
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      return widget;
    }
  });

  commands.addCommand(CommandIDs.newAutomation, {
    label: 'New Automation',
    icon: flowsIcon,
    execute: () => {
      const widget = createAutomationWidget(model);
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      return widget;
    }
  });

  commands.addCommand(CommandIDs.deleteAutomation, {
    label: 'Delete Automation',
    execute: async args => {
      const id = idOf(args);
      const automation = model.automations.find(
        a => a.id === id || a.name === id
      );
      const name = automation?.name ?? id;
      const sure = await confirm(
        `Delete automation ${name}?`,
        'The actions it still had to do are dropped.',
        'Delete'
      );
      if (!sure) {
        return;
      }
      try {
        await PagesAPI.deleteAutomation(automation?.id ?? id);
        await model.refresh();
      } catch (error) {
        Notification.error(
          `Deleting the automation failed: ${errorMessage(error)}`,
          { autoClose: 8000 }
        );
      }
    }
  });

  if (restorer) {
    void restorer.restore(tracker, {
      command: CommandIDs.openDeployment,
      args: widget => ({ id: widget.content.deploymentId }),
      name: widget => widget.content.deploymentId
    });
  }
}
