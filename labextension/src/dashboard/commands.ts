/**
 * The commands that open the dashboard and the events feed (one of each).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { flowsIcon } from '../icons';
import { CommandIDs } from '../tokens';
import { createDashboardWidget } from './Dashboard';
import { createEventsWidget } from './EventsFeed';

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/**
 * `jupyter-flows:open-dashboard` and `jupyter-flows:open-events` (args
 * `event`, `resource`, `window`: the feed's first filter).
 */
export function addDashboardCommands(app: JupyterFrontEnd): void {
  const { commands, shell } = app;
  let dashboard: MainAreaWidget | null = null;
  let events: MainAreaWidget | null = null;
  const show = (widget: Widget) => {
    if (!widget.isAttached) {
      shell.add(widget, 'main');
    }
    shell.activateById(widget.id);
  };

  commands.addCommand(CommandIDs.openDashboard, {
    label: 'Open Flows Dashboard',
    icon: flowsIcon,
    execute: () => {
      if (!dashboard || dashboard.isDisposed) {
        dashboard = createDashboardWidget(commands);
      }
      show(dashboard);
      return dashboard;
    }
  });

  commands.addCommand(CommandIDs.openEvents, {
    label: 'Open Flows Events',
    icon: flowsIcon,
    execute: args => {
      const initial = {
        event: text(args.event),
        resource: text(args.resource),
        window: text(args.window)
      };
      const filtered = Object.values(initial).some(v => v !== undefined);
      if (!events || events.isDisposed || filtered) {
        events?.dispose();
        events = createEventsWidget(
          commands,
          Object.fromEntries(
            Object.entries(initial).filter(([, v]) => v !== undefined)
          )
        );
      }
      show(events);
      return events;
    }
  });
}
