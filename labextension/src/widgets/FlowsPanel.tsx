/**
 * The left side panel: runs (filtered, paged), deployments, automations,
 * work pools.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { refreshIcon } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import React, { useState } from 'react';

import { ArtifactKeyList } from '../components/ArtifactKeys';
import { AutomationList } from '../components/AutomationList';
import { ConcurrencyList } from '../components/ConcurrencyList';
import { ConfigList } from '../components/ConfigList';
import { DeploymentList } from '../components/DeploymentList';
import { PoolSection } from '../components/PoolSection';
import { useClock, useSignal } from '../components/hooks';
import { RunFilter } from '../components/RunFilter';
import { RunList } from '../components/RunList';
import { Banner, Section } from '../components/Section';
import { CommandIDs, Flows, IFlowsModel } from '../tokens';

function Panel(props: {
  model: IFlowsModel;
  commands: CommandRegistry;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const { model, commands, rendermime } = props;
  useSignal(model.changed);
  const now = useClock(1000);
  const [busy, setBusy] = useState<Set<string>>(new Set());

  const withBusy = async (id: string, action: () => Promise<unknown>) => {
    setBusy(b => new Set(b).add(id));
    try {
      await action();
    } finally {
      setBusy(b => {
        const next = new Set(b);
        next.delete(id);
        return next;
      });
    }
  };
  const onToggle = (d: Flows.IDescribeDeployment) =>
    withBusy(d.id, () =>
      commands.execute(CommandIDs.toggleDeployment, { id: d.id })
    );
  const onToggleAutomation = (a: Flows.IDescribeAutomation) =>
    withBusy(a.id, () =>
      commands.execute(CommandIDs.toggleAutomation, { id: a.id })
    );
  const onRun = (d: Flows.IDescribeDeployment) =>
    withBusy(d.id, () =>
      commands.execute(CommandIDs.runDeployment, { id: d.id })
    );
  const refresh = (
    <button
      className="jp-Flows-iconButton"
      title="Refresh"
      aria-label="Refresh"
      onClick={() => void commands.execute(CommandIDs.refresh)}
    >
      <refreshIcon.react tag="span" />
    </button>
  );
  return (
    <div className="jp-Flows-panelBody">
      <header className="jp-Flows-panelHeader">
        <h2>Flows</h2>
        <span className="jp-Flows-panelLinks">
          <button
            className="jp-Flows-button"
            data-open="dashboard"
            onClick={() => void commands.execute(CommandIDs.openDashboard)}
          >
            Dashboard
          </button>
          <button
            className="jp-Flows-button"
            data-open="events"
            onClick={() => void commands.execute(CommandIDs.openEvents)}
          >
            Events
          </button>
          {refresh}
        </span>
      </header>
      {model.error && (
        <Banner
          kind="error"
          action={
            <button
              className="jp-Flows-button"
              onClick={() => void model.refresh()}
            >
              Retry
            </button>
          }
        >
          {model.error}
        </Banner>
      )}
      <Section id="runs" title="Flow runs" count={model.totalRuns}>
        <RunFilter
          filter={model.filter}
          flows={model.flows}
          deployments={model.deployments}
          onChange={filter => (model.filter = filter)}
        />
        <RunList
          runs={model.runs}
          total={model.totalRuns}
          loading={model.loading}
          now={now}
          subflows={model.subflows}
          expanded={model.expanded}
          deploymentNames={
            new Map(model.deployments.map(d => [d.id, d.name] as const))
          }
          onOpen={run =>
            void commands.execute(CommandIDs.openRun, { id: run.id })
          }
          onToggle={run => void model.toggleSubflows(run.id)}
          onLoadMore={() => void model.loadMore()}
        />
      </Section>
      <Section
        id="deployments"
        title="Deployments"
        count={model.deployments.length}
      >
        {model.orchestrationError ? (
          <Banner kind="info">{model.orchestrationError}</Banner>
        ) : (
          <DeploymentList
            deployments={model.deployments}
            now={now}
            busy={busy}
            onRun={d => void onRun(d)}
            onToggle={d => void onToggle(d)}
            onShowRuns={d =>
              (model.filter = { ...model.filter, deploymentId: d.id })
            }
            onOpen={d =>
              void commands.execute(CommandIDs.openDeployment, { id: d.id })
            }
          />
        )}
      </Section>
      <Section
        id="automations"
        title="Automations"
        count={model.automations.length}
      >
        {!model.orchestrationError && (
          <div className="jp-Flows-sectionToolbar">
            <button
              className="jp-Flows-button"
              onClick={() => void commands.execute(CommandIDs.newAutomation)}
            >
              New automation
            </button>
          </div>
        )}
        {!model.orchestrationError && (
          <AutomationList
            automations={model.automations}
            events={model.automationEvents}
            now={now}
            busy={busy}
            onToggle={a => void onToggleAutomation(a)}
            onDelete={a =>
              void commands.execute(CommandIDs.deleteAutomation, { id: a.id })
            }
          />
        )}
      </Section>
      <Section id="artifacts" title="Artifacts" count={model.artifactTotal}>
        {!model.orchestrationError && (
          <ArtifactKeyList
            artifacts={model.artifacts}
            now={now}
            rendermime={rendermime}
            onOpenRun={id => void commands.execute(CommandIDs.openRun, { id })}
          />
        )}
      </Section>
      <Section
        id="concurrency"
        title="Concurrency limits"
        count={model.concurrencyLimits.length}
      >
        {!model.orchestrationError && (
          <ConcurrencyList
            limits={model.concurrencyLimits}
            now={now}
            onChanged={() => void model.refresh()}
          />
        )}
      </Section>
      <Section
        id="config"
        title="Variables and blocks"
        count={model.variables.length + model.blocks.length}
      >
        {!model.orchestrationError && (
          <ConfigList
            variables={model.variables}
            blocks={model.blocks}
            now={now}
            onChanged={() => void model.refresh()}
          />
        )}
      </Section>
      <Section id="pools" title="Work pools" count={model.workPools.length}>
        {!model.orchestrationError && (
          <PoolSection
            pools={model.workPools}
            workers={model.workers}
            now={now}
            onChanged={() => model.refresh()}
          />
        )}
      </Section>
    </div>
  );
}

/**
 * The "Flows" side panel (a ReactWidget re-rendered on model changes).
 */
export class FlowsPanel extends ReactWidget {
  constructor(options: {
    model: IFlowsModel;
    commands: CommandRegistry;
    /** Renders markdown artifacts in their history; none: shown as text. */
    rendermime?: IRenderMimeRegistry | null;
  }) {
    super();
    this._model = options.model;
    this._commands = options.commands;
    this._rendermime = options.rendermime ?? null;
    this.addClass('jp-Flows-panel');
  }

  render(): JSX.Element {
    return (
      <Panel
        model={this._model}
        commands={this._commands}
        rendermime={this._rendermime}
      />
    );
  }

  private _model: IFlowsModel;
  private _rendermime: IRenderMimeRegistry | null;
  private _commands: CommandRegistry;
}
