/**
 * A deployment's page (main area): what it runs and when, its parameters
 * schema, tags, pool and job variables, recent runs (linking to their run
 * views) and next scheduled runs; edit, delete, pause/resume and "Run".
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import React, { useCallback, useEffect, useState } from 'react';

import { errorMessage } from '../api';
import { DeploymentEditForm } from '../components/DeploymentEditForm';
import { confirm } from '../components/FormField';
import { useClock } from '../components/hooks';
import { Banner } from '../components/Section';
import { StateBadge } from '../components/StateBadge';
import { formatRelative, formatTime, stateName } from '../format';
import { flowsIcon } from '../icons';
import { PagesAPI } from '../pagesApi';
import { scheduleInWords } from '../scheduleWords';
import { CommandIDs, Flows, IFlowsModel } from '../tokens';

interface IPage {
  deployment: Flows.IDescribeDeployment;
  runs: Flows.IDescribeFlowRunItem[];
  total: number;
  next: string[];
}

function Row(props: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

function Json(props: { value: object; label: string }): JSX.Element {
  return Object.keys(props.value).length ? (
    <pre className="jp-Flows-jsonBlock" aria-label={props.label}>
      {JSON.stringify(props.value, null, 2)}
    </pre>
  ) : (
    <span className="jp-Flows-detail">none</span>
  );
}

function DeploymentPage(props: {
  deploymentId: string;
  model: IFlowsModel;
  commands: CommandRegistry;
  onDeleted: () => void;
  onTitle: (name: string) => void;
}): JSX.Element {
  const { deploymentId, model, commands } = props;
  const now = useClock(5000);
  const [page, setPage] = useState<IPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const deployment = await PagesAPI.deployment(deploymentId);
      const [runs, next] = await Promise.all([
        PagesAPI.recentRuns(deployment.id),
        deployment.paused
          ? Promise.resolve([])
          : PagesAPI.nextRuns(deployment.id)
      ]);
      setPage({ deployment, runs: runs.items, total: runs.total, next });
      props.onTitle(deployment.name);
      setError(null);
    } catch (reason) {
      setError(errorMessage(reason));
    }
  }, [deploymentId]);
  useEffect(() => {
    void load();
    const slot = () => void load();
    model.ticked.connect(slot);
    return () => {
      model.ticked.disconnect(slot);
    };
  }, [load, model]);

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await action();
      await load();
    } catch (reason) {
      setError(errorMessage(reason));
    } finally {
      setBusy(false);
    }
  };
  if (!page) {
    return error ? (
      <Banner kind="error">{error}</Banner>
    ) : (
      <p className="jp-Flows-empty">Loading…</p>
    );
  }
  const d = page.deployment;
  const remove = async () => {
    const sure = await confirm(
      `Delete deployment ${d.name}?`,
      'Its waiting runs are deleted; the runs that ran stay.',
      'Delete'
    );
    if (sure) {
      await act(async () => {
        await PagesAPI.deleteDeployment(d.id);
        await model.refresh();
        props.onDeleted();
      });
    }
  };
  const schema = (d.parameter_schema ?? {}) as {
    properties?: { [name: string]: object };
  };
  return (
    <div className="jp-Flows-page" data-deployment={d.name}>
      <header className="jp-Flows-pageHeader">
        <h2>{d.name}</h2>
        <span className="jp-Flows-detail">
          {d.paused ? 'Paused' : 'Active'}
        </span>
        <div className="jp-Flows-rowActions">
          <button
            className="jp-Flows-button jp-mod-accept"
            disabled={busy}
            onClick={() =>
              void act(() =>
                commands.execute(CommandIDs.runDeployment, { id: d.id })
              )
            }
          >
            Run
          </button>
          <button
            className="jp-Flows-button"
            disabled={busy || editing}
            onClick={() => setEditing(true)}
          >
            Edit
          </button>
          <button
            className="jp-Flows-button jp-mod-warn"
            disabled={busy}
            onClick={() => void remove()}
          >
            Delete
          </button>
        </div>
      </header>
      {error && <Banner kind="error">{error}</Banner>}
      {editing && (
        <DeploymentEditForm
          deployment={d}
          pools={model.workPools.map(p => p.name)}
          onSaved={updated => {
            setEditing(false);
            model.updateDeployment(updated);
            void load();
          }}
          onCancel={() => setEditing(false)}
        />
      )}
      <dl className="jp-Flows-pageFacts">
        <Row label="Entrypoint">
          <code>{d.entrypoint}</code> ({d.kind})
        </Row>
        <Row label="Schedule">
          <span className="jp-Flows-scheduleWords">
            {d.schedules.length
              ? d.schedules.map(scheduleInWords).join('; ')
              : 'Manual (no schedule)'}
          </span>
        </Row>
        {d.description && <Row label="Description">{d.description}</Row>}
        <Row label="Tags">{d.tags.length ? d.tags.join(', ') : 'none'}</Row>
        <Row label="Work pool">{d.work_pool}</Row>
        <Row label="Parameters">
          <Json value={d.parameters} label="Parameters" />
        </Row>
        <Row label="Parameter schema">
          {Object.keys(schema.properties ?? {}).length ? (
            <Json value={schema.properties ?? {}} label="Parameter schema" />
          ) : (
            <span className="jp-Flows-detail">none</span>
          )}
        </Row>
        <Row label="Job variables">
          <Json value={d.job_variables} label="Job variables" />
        </Row>
      </dl>
      <h3>Next scheduled runs</h3>
      {page.next.length ? (
        <ul className="jp-Flows-list jp-Flows-nextRuns" aria-label="Next runs">
          {page.next.map(t => (
            <li key={t}>
              {formatTime(t)}{' '}
              <span className="jp-Flows-detail">{formatRelative(t, now)}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="jp-Flows-empty">
          {d.paused ? 'Paused: no runs are scheduled.' : 'No upcoming run.'}
        </p>
      )}
      <h3>Recent runs ({page.total})</h3>
      {page.runs.length ? (
        <ul className="jp-Flows-list" aria-label="Recent runs">
          {page.runs.map(run => (
            <li key={run.id} className="jp-Flows-recentRun">
              <StateBadge state={stateName(run)} />
              <button
                className="jp-Flows-link"
                onClick={() =>
                  void commands.execute(CommandIDs.openRun, { id: run.id })
                }
              >
                {run.name}
              </button>
              <span className="jp-Flows-detail" title={formatTime(run.created)}>
                {formatRelative(run.start_time ?? run.created, now)}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="jp-Flows-empty">No runs yet.</p>
      )}
    </div>
  );
}

/** The page's widget; `deploymentId` is what the layout restorer keeps. */
export class DeploymentView extends ReactWidget {
  constructor(
    readonly deploymentId: string,
    private _model: IFlowsModel,
    private _commands: CommandRegistry
  ) {
    super();
    this.addClass('jp-Flows-deploymentView');
  }

  render(): JSX.Element {
    return (
      <DeploymentPage
        deploymentId={this.deploymentId}
        model={this._model}
        commands={this._commands}
        onDeleted={() => this.parent?.close()}
        onTitle={name => {
          if (this.parent) {
            this.parent.title.label = `Deployment ${name}`;
          }
        }}
      />
    );
  }
}

export function createDeploymentWidget(
  deploymentId: string,
  model: IFlowsModel,
  commands: CommandRegistry
): MainAreaWidget<DeploymentView> {
  const content = new DeploymentView(deploymentId, model, commands);
  const widget = new MainAreaWidget({ content });
  widget.id = `jupyter-flows-deployment-${deploymentId}`;
  widget.title.label = 'Deployment';
  widget.title.icon = flowsIcon;
  widget.title.closable = true;
  return widget;
}
