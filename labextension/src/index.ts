/**
 * The jupyter-flows JupyterLab plugins.
 */
import {
  ILayoutRestorer,
  IRouter,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import {
  addPanelCommands,
  addScheduleCommand,
  RUN_LINK_PARAM
} from './commands';
import { addDashboardCommands } from './dashboard/commands';
import { flowsIcon } from './icons';
import { FlowsModel } from './model';
import { FlowsNotifier } from './notifier';
import { addPageCommands } from './pageCommands';
import { CommandIDs, IFlowsModel } from './tokens';
import { FlowsPanel } from './widgets/FlowsPanel';
import { RunView } from './widgets/RunView';

export * from './tokens';

const PLUGIN_ID = 'jupyter-flows:plugin';
const PANEL_ID = 'jupyter-flows-panel';

/**
 * The model: one shared poll of runs, deployments, automations and work pools; checks the
 * server extension on activation.
 */
const modelPlugin: JupyterFrontEndPlugin<IFlowsModel> = {
  id: PLUGIN_ID,
  description:
    'Runs, deployments, automations and work pools of jupyter-flows.',
  autoStart: true,
  provides: IFlowsModel,
  optional: [ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    registry: ISettingRegistry | null
  ): IFlowsModel => {
    const model = new FlowsModel();
    new FlowsNotifier(model, app.commands); // toasts from the one poll
    const configure = (settings: ISettingRegistry.ISettings) =>
      model.configure({
        interval: settings.get('pollInterval').composite as number,
        maxInterval: settings.get('maxPollInterval').composite as number,
        pageSize: settings.get('pageSize').composite as number
      });
    const settingsLoaded = registry
      ? registry
          .load(PLUGIN_ID)
          .then(settings => {
            configure(settings);
            settings.changed.connect(configure);
          })
          .catch(reason =>
            console.error('jupyter-flows: cannot load the settings', reason)
          )
      : Promise.resolve();
    void Promise.all([app.restored, settingsLoaded])
      .then(() => model.connect())
      .then(problem => {
        if (problem) {
          Notification.error(`jupyter-flows: ${problem}`, { autoClose: false });
        }
      });
    return model;
  }
};

/**
 * The "Flows" side panel, the run views (restored with the layout) and
 * their commands.
 */
const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-flows:sidebar',
  description: 'The Flows side panel and the flow run views.',
  autoStart: true,
  requires: [IFlowsModel],
  optional: [ILayoutRestorer, ICommandPalette, IRenderMimeRegistry, IRouter],
  activate: (
    app: JupyterFrontEnd,
    model: IFlowsModel,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null,
    router: IRouter | null
  ): void => {
    const panel = new FlowsPanel({
      model,
      commands: app.commands,
      rendermime
    });
    panel.id = PANEL_ID;
    panel.title.icon = flowsIcon;
    panel.title.caption = 'Flows';
    app.shell.add(panel, 'left', { rank: 600 });

    const tracker = new WidgetTracker<MainAreaWidget<RunView>>({
      namespace: 'jupyter-flows-run'
    });
    addPanelCommands(app, model, tracker, PANEL_ID, rendermime);
    addPageCommands(app, model, restorer);
    addDashboardCommands(app);
    if (restorer) {
      restorer.add(panel, PANEL_ID);
      void restorer.restore(tracker, {
        command: CommandIDs.openRun,
        args: widget => ({ id: widget.content.model.runId }),
        name: widget => widget.content.model.runId
      });
    }
    // a link `/lab?flows-run=<id>` (the run view's "Copy link") opens that run
    router?.register({
      command: CommandIDs.openRunFromUrl,
      pattern: new RegExp(`[?&]${RUN_LINK_PARAM}=`)
    });
    for (const command of [
      CommandIDs.openPanel,
      CommandIDs.refresh,
      CommandIDs.openDashboard,
      CommandIDs.openEvents
    ]) {
      palette?.addItem({ command, category: 'Flows' });
    }
  }
};

/**
 * "Schedule this notebook" (command, palette, notebook toolbar, Run menu).
 */
const schedulePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-flows:schedule',
  description: 'Schedule the current notebook as a deployment.',
  autoStart: true,
  requires: [IFlowsModel, INotebookTracker],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    model: IFlowsModel,
    notebooks: INotebookTracker,
    palette: ICommandPalette | null
  ): void => {
    addScheduleCommand(app, model, notebooks);
    palette?.addItem({
      command: CommandIDs.scheduleNotebook,
      category: 'Flows',
      args: { isPalette: true }
    });
  }
};

export default [modelPlugin, sidebarPlugin, schedulePlugin];
