/**
 * The dashboard in the main area: runs over time by state, failure rates
 * and durations per flow and deployment, late runs, pools and workers, the
 * last failures, for a selectable window (`GET api/dashboard`).
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { refreshIcon } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import React, { useCallback, useEffect, useRef, useState } from 'react';

import { errorMessage, FlowsAPI } from '../api';
import { useClock } from '../components/hooks';
import { Banner, Section } from '../components/Section';
import { flowsIcon } from '../icons';
import { CommandIDs, Flows } from '../tokens';
import { StackedBars, STACK, typeColor, typeLabel } from './charts';
import { GroupTable, PoolList, RunLinks } from './parts';

/** The windows offered: length and bucket, in seconds. */
export const WINDOWS: Record<string, { seconds: number; bucket: number }> = {
  '1h': { seconds: 3600, bucket: 300 },
  '24h': { seconds: 86400, bucket: 3600 },
  '7d': { seconds: 7 * 86400, bucket: 6 * 3600 },
  '30d': { seconds: 30 * 86400, bucket: 86400 }
};
const REFRESH_MS = 15000;

/** The query of a window ending now, its buckets on whole multiples of the bucket. */
export function windowQuery(
  key: string,
  now = Date.now()
): Flows.IReadDashboardQuery {
  const { seconds, bucket } = WINDOWS[key];
  const until = Math.ceil(now / 1000 / bucket) * bucket;
  return {
    since: new Date((until - seconds) * 1000).toISOString(),
    until: new Date(until * 1000).toISOString(),
    bucket
  };
}

function Card(props: {
  label: string;
  value: React.ReactNode;
  field: string;
  bad?: boolean;
  note?: string;
}): JSX.Element {
  return (
    <div
      className="jp-Flows-card"
      data-field={props.field}
      data-bad={props.bad ? 'true' : 'false'}
    >
      <div className="jp-Flows-cardValue">{props.value}</div>
      <div className="jp-Flows-cardLabel">{props.label}</div>
      {props.note && <div className="jp-Flows-dim">{props.note}</div>}
    </div>
  );
}

function Legend(props: { totals: Record<string, number> }): JSX.Element {
  const types = STACK.filter(t => props.totals[t]);
  return (
    <ul className="jp-Flows-legend">
      {types.map(t => (
        <li key={t} data-state={t}>
          <span
            className="jp-Flows-swatch"
            style={{ background: typeColor(t) }}
          />
          {typeLabel(t)} <span className="jp-Flows-dim">{props.totals[t]}</span>
        </li>
      ))}
    </ul>
  );
}

function DashboardBody(props: { commands: CommandRegistry }): JSX.Element {
  const { commands } = props;
  const now = useClock(REFRESH_MS);
  const [windowKey, setWindowKey] = useState('24h');
  const [data, setData] = useState<Flows.IDescribeDashboard | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [shown, setShown] = useState<string | null>(null);

  // a reply to an older request (another window) never replaces a newer one
  const latest = useRef(0);
  const load = useCallback(async () => {
    const request = ++latest.current;
    setLoading(true);
    try {
      const reply = await FlowsAPI.dashboard(windowQuery(windowKey));
      if (request === latest.current) {
        setData(reply);
        setShown(windowKey);
        setError(null);
      }
    } catch (e) {
      if (request === latest.current) {
        setError(errorMessage(e));
      }
    } finally {
      if (request === latest.current) {
        setLoading(false);
      }
    }
  }, [windowKey]);
  useEffect(() => {
    void load();
  }, [load, now]);

  const open = (id: string) =>
    void commands.execute(CommandIDs.openRun, { id });
  const online = data
    ? data.workers.filter(w => w.status === 'online').length
    : 0;
  return (
    <div
      className="jp-Flows-dashboard"
      data-window={windowKey}
      data-shown={shown ?? ''}
      aria-busy={loading}
    >
      <header className="jp-Flows-dashHeader">
        <h2>Flows dashboard</h2>
        <div
          className="jp-Flows-windows"
          role="radiogroup"
          aria-label="Time window"
        >
          {Object.keys(WINDOWS).map(key => (
            <button
              key={key}
              role="radio"
              aria-checked={key === windowKey}
              className="jp-Flows-button jp-Flows-window"
              data-window={key}
              onClick={() => setWindowKey(key)}
            >
              {key}
            </button>
          ))}
        </div>
        <button
          className="jp-Flows-iconButton"
          title="Refresh"
          aria-label="Refresh"
          onClick={() => void load()}
        >
          <refreshIcon.react tag="span" />
        </button>
        <button
          className="jp-Flows-button"
          onClick={() => void commands.execute(CommandIDs.openEvents)}
        >
          Events
        </button>
      </header>
      {error && <Banner kind="error">{error}</Banner>}
      {data && (
        <>
          <div className="jp-Flows-cards">
            <Card label="Flow runs" field="total" value={data.total_runs} />
            <Card
              label="Failed or crashed"
              field="failed"
              value={data.failed}
              bad={data.failed > 0}
              note={`${(data.failure_rate * 100).toFixed(0)}% of ended runs`}
            />
            <Card
              label="Late runs"
              field="late"
              value={data.late_runs}
              bad={data.late_runs > 0}
              note="overdue now"
            />
            <Card
              label="Workers online"
              field="workers"
              value={`${online} / ${data.workers.length}`}
              note={`${data.pools.length} work pool${data.pools.length === 1 ? '' : 's'}`}
            />
          </div>
          <Section id="dash-chart" title="Flow runs over time">
            <StackedBars buckets={data.buckets} bucketSeconds={data.bucket} />
            <Legend totals={data.totals} />
          </Section>
          <div className="jp-Flows-dashColumns">
            <Section
              id="dash-failures"
              title="Last failures"
              count={data.failures.length}
            >
              <RunLinks
                runs={data.failures}
                empty="No failed runs in this window."
                now={now}
                onOpen={open}
              />
            </Section>
            <Section id="dash-late" title="Late runs" count={data.late_runs}>
              <RunLinks
                runs={data.late}
                empty="No late runs."
                now={now}
                late
                onOpen={open}
              />
            </Section>
          </div>
          <Section id="dash-flows" title="Flows" count={data.flows.length}>
            <GroupTable
              kind="flow"
              groups={data.flows}
              starts={data.buckets.map(b => b.start)}
            />
          </Section>
          <Section
            id="dash-deployments"
            title="Deployments"
            count={data.deployments.length}
          >
            <GroupTable
              kind="deployment"
              groups={data.deployments}
              starts={data.buckets.map(b => b.start)}
            />
          </Section>
          <Section
            id="dash-pools"
            title="Work pools and workers"
            count={data.pools.length}
          >
            <PoolList pools={data.pools} workers={data.workers} now={now} />
          </Section>
        </>
      )}
    </div>
  );
}

/** The dashboard's content (a ReactWidget). */
export class DashboardView extends ReactWidget {
  constructor(private _commands: CommandRegistry) {
    super();
    this.addClass('jp-Flows-dashboardView');
  }

  render(): JSX.Element {
    return <DashboardBody commands={this._commands} />;
  }
}

export function createDashboardWidget(
  commands: CommandRegistry
): MainAreaWidget<DashboardView> {
  const widget = new MainAreaWidget({ content: new DashboardView(commands) });
  widget.id = 'jupyter-flows-dashboard';
  widget.title.label = 'Flows Dashboard';
  widget.title.icon = flowsIcon;
  widget.title.closable = true;
  return widget;
}
