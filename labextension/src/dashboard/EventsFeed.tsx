/**
 * The events feed in the main area: events newest first, filtered by a name
 * glob, a resource and a time window, paged; an event of a flow or task run
 * opens its run (`GET api/events`).
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import React, { useCallback, useEffect, useRef, useState } from 'react';

import { errorMessage, FlowsAPI } from '../api';
import { useClock } from '../components/hooks';
import { Banner } from '../components/Section';
import { formatRelative, formatTime } from '../format';
import { flowsIcon } from '../icons';
import { CommandIDs, Flows } from '../tokens';

export const PAGE = 50;
const WINDOW_SECONDS: Record<string, number | null> = {
  '1h': 3600,
  '24h': 86400,
  '7d': 7 * 86400,
  '30d': 30 * 86400,
  all: null
};

/** The flow run an event is about: its resource, or a task run's flow run. */
export function eventRunId(event: Flows.IDescribeEvent): string | null {
  const resource = event.resource ?? '';
  if (resource.startsWith('flow-run/')) {
    return resource.slice('flow-run/'.length) || null;
  }
  const flowRunId = event.payload?.flow_run_id;
  if (resource.startsWith('task-run/') && typeof flowRunId === 'string') {
    return flowRunId;
  }
  return null;
}

function clip(value: unknown, max = 160): string {
  const text = JSON.stringify(value);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

interface IFilter {
  event: string;
  resource: string;
  window: string;
}

function EventsBody(props: {
  commands: CommandRegistry;
  initial: Partial<IFilter>;
}): JSX.Element {
  const { commands } = props;
  const now = useClock(10000);
  const [draft, setDraft] = useState<IFilter>({
    event: '',
    resource: '',
    window: '24h',
    ...props.initial
  });
  const [filter, setFilter] = useState<IFilter>(draft);
  // ids of the first event of each page shown before this one (for "Newer")
  const [pages, setPages] = useState<(number | undefined)[]>([undefined]);
  const [items, setItems] = useState<Flows.IDescribeEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  // the filter of the events shown (the one applied may still be loading)
  const [loaded, setLoaded] = useState<IFilter | null>(null);
  const before = pages[pages.length - 1];

  // a reply to an older request (other filters) never replaces a newer one
  const latest = useRef(0);
  const load = useCallback(async () => {
    const seconds = WINDOW_SECONDS[filter.window];
    const q: Flows.IListEventsQuery = {
      event: filter.event.trim() || undefined,
      resource: filter.resource.trim() || undefined,
      since: seconds
        ? new Date(Date.now() - seconds * 1000).toISOString()
        : undefined,
      before_id: before,
      limit: PAGE + 1
    };
    const request = ++latest.current;
    try {
      const reply = await FlowsAPI.events(q);
      if (request === latest.current) {
        setItems(reply);
        setLoaded(filter);
        setError(null);
      }
    } catch (e) {
      if (request === latest.current) {
        setError(errorMessage(e));
        setItems([]);
      }
    }
  }, [filter, before]);
  useEffect(() => {
    void load();
  }, [load, before === undefined ? now : 0]);

  const apply = () => {
    setFilter(draft);
    setPages([undefined]);
  };
  const shown = items.slice(0, PAGE);
  const hasOlder = items.length > PAGE;
  const open = (id: string) =>
    void commands.execute(CommandIDs.openRun, { id });
  return (
    <div
      className="jp-Flows-events"
      data-event-filter={loaded?.event ?? ''}
      data-resource-filter={loaded?.resource ?? ''}
    >
      <header className="jp-Flows-dashHeader">
        <h2>Flows events</h2>
        <button
          className="jp-Flows-button"
          onClick={() => void commands.execute(CommandIDs.openDashboard)}
        >
          Dashboard
        </button>
      </header>
      <form
        className="jp-Flows-eventFilter"
        onSubmit={e => {
          e.preventDefault();
          apply();
        }}
      >
        <label>
          Event
          <input
            className="jp-Flows-input"
            name="event"
            placeholder="flow-run.*"
            value={draft.event}
            onChange={e => setDraft({ ...draft, event: e.target.value })}
          />
        </label>
        <label>
          Resource
          <input
            className="jp-Flows-input"
            name="resource"
            placeholder="flow-run/ID, task-run/*, a run id"
            value={draft.resource}
            onChange={e => setDraft({ ...draft, resource: e.target.value })}
          />
        </label>
        <label>
          Time
          <select
            className="jp-Flows-input"
            name="window"
            value={draft.window}
            onChange={e => {
              const next = { ...draft, window: e.target.value };
              setDraft(next);
              setFilter(next);
              setPages([undefined]);
            }}
          >
            {Object.keys(WINDOW_SECONDS).map(k => (
              <option key={k} value={k}>
                {k === 'all' ? 'all time' : `last ${k}`}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="jp-Flows-button jp-mod-accept">
          Filter
        </button>
      </form>
      {error && <Banner kind="error">{error}</Banner>}
      {!error && shown.length === 0 && (
        <p className="jp-Flows-empty">No events match.</p>
      )}
      {shown.length > 0 && (
        <table className="jp-Flows-table jp-Flows-eventTable">
          <thead>
            <tr>
              <th>When</th>
              <th>Event</th>
              <th>Resource</th>
              <th>Payload</th>
            </tr>
          </thead>
          <tbody>
            {shown.map(ev => {
              const runId = eventRunId(ev);
              return (
                <tr key={ev.id} data-event-id={ev.id} data-event={ev.event}>
                  <td title={formatTime(ev.occurred)}>
                    {formatRelative(ev.occurred, now)}
                  </td>
                  <td className="jp-Flows-eventName">{ev.event}</td>
                  <td>
                    {runId ? (
                      <button
                        className="jp-Flows-link jp-Flows-eventRun"
                        title={`Open flow run ${runId}`}
                        onClick={() => open(runId)}
                      >
                        {ev.resource}
                      </button>
                    ) : (
                      <span className="jp-Flows-dim">{ev.resource ?? '–'}</span>
                    )}
                  </td>
                  <td className="jp-Flows-eventPayload">
                    {clip(ev.payload ?? {})}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div className="jp-Flows-more">
        <button
          className="jp-Flows-button"
          disabled={pages.length === 1}
          onClick={() => setPages(pages.slice(0, -1))}
        >
          Newer
        </button>
        <span>page {pages.length}</span>
        <button
          className="jp-Flows-button"
          disabled={!hasOlder}
          onClick={() => setPages([...pages, shown[shown.length - 1].id])}
        >
          Older
        </button>
      </div>
    </div>
  );
}

/** The events feed's content (a ReactWidget). */
export class EventsView extends ReactWidget {
  constructor(
    private _commands: CommandRegistry,
    private _initial: Partial<IFilter> = {}
  ) {
    super();
    this.addClass('jp-Flows-eventsView');
  }

  render(): JSX.Element {
    return <EventsBody commands={this._commands} initial={this._initial} />;
  }
}

export function createEventsWidget(
  commands: CommandRegistry,
  initial: Partial<IFilter> = {}
): MainAreaWidget<EventsView> {
  const widget = new MainAreaWidget({
    content: new EventsView(commands, initial)
  });
  widget.id = 'jupyter-flows-events';
  widget.title.label = 'Flows Events';
  widget.title.icon = flowsIcon;
  widget.title.closable = true;
  return widget;
}
