/**
 * The run detail view in the main area: graph, timeline, tasks, logs.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { CommandRegistry } from '@lumino/commands';
import React, { useState } from 'react';

import { ArtifactCards } from '../components/Artifacts';
import { useClock, useSignal } from '../components/hooks';
import { LogView } from '../components/LogView';
import { PauseForm } from '../components/PauseForm';
import { RunGraph } from '../components/RunGraph';
import { Banner, Section } from '../components/Section';
import { RunHeader } from '../components/RunHeader';
import { TaskDetails } from '../components/TaskDetails';
import { TaskPager } from '../components/TaskPager';
import { TaskTable } from '../components/TaskTable';
import { Timeline } from '../components/Timeline';
import { BAD, inGroup, isFinal, stateName } from '../format';
import { flowsIcon } from '../icons';
import { RunModel, TASK_PAGE } from '../runModel';
import { RunViews } from '../runTypes';
import { CommandIDs, Flows, IFlowsModel } from '../tokens';

/** The last ERROR line (with its traceback) of a task run, or of the flow. */
function errorLog(
  logs: Flows.IDescribeLog[],
  taskRunId: string | null
): string | null {
  for (let i = logs.length - 1; i >= 0; i--) {
    const log = logs[i];
    if (log.level >= 40 && (log.task_run_id ?? null) === taskRunId) {
      return log.message;
    }
  }
  return null;
}

/** The errors of a failed run: its failed task runs' tracebacks, else its own. */
function errors(
  run: Flows.IRunColumns,
  failed: Flows.IDescribeTaskRun[],
  logs: Flows.IDescribeLog[]
): string[] {
  const out: string[] = [];
  for (const t of failed) {
    if (inGroup(BAD, t.state_type)) {
      const text = errorLog(logs, t.id) ?? t.state_message;
      if (text) {
        out.push(`${t.name}: ${text}`);
      }
    }
  }
  if (out.length === 0 && inGroup(BAD, run.state_type)) {
    const text = errorLog(logs, null) ?? run.state_message;
    if (text) {
      out.push(text);
    }
  }
  return out;
}

function RunDetail(props: {
  model: RunModel;
  commands: CommandRegistry;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const { model, commands } = props;
  useSignal(model.changed);
  const now = useClock(1000);
  const [selected, setSelected] = useState<string | null>(null);
  const run = model.run;
  const openRun = (id: string) =>
    void commands.execute(CommandIDs.openRun, { id });
  if (!run) {
    return (
      <div className="jp-Flows-run">
        {model.error ? (
          <Banner kind="error">{model.error}</Banner>
        ) : (
          <p className="jp-Flows-empty">Loading run…</p>
        )}
      </div>
    );
  }
  const page = model.taskPage;
  const taskRuns = page?.items ?? [];
  const query = model.taskQuery;
  const taskNames = new Map(
    [...taskRuns, ...model.failedTaskRuns].map(t => [t.id, t.name])
  );
  const problems = errors(run, model.failedTaskRuns, model.errorLogs);
  const headline = inGroup(BAD, run.state_type) ? run.state_message : null;
  // one task run selected (not a group of them): the details pane shows it
  const selectedTask =
    model.graph && !model.graph.aggregated
      ? (model.graph.nodes.find(n => n.id === selected && n.count === 1) ??
        null)
      : null;
  const onNode = (node: RunViews.IGraphNode) => {
    const subflow = node.details?.subflow_run_id;
    if (subflow) {
      openRun(subflow);
      return;
    }
    const again = node.id === selected;
    setSelected(again ? null : node.id);
    if (node.count > 1 && node.task_key) {
      // a group of runs of one task: show those runs in the table
      const taskKey = again ? null : node.task_key;
      void model.setTaskQuery({ taskKey, offset: 0 });
    }
  };
  return (
    <div className="jp-Flows-run" data-run-id={run.id}>
      <RunHeader
        run={run}
        deployment={
          model.flows.deployments.find(d => d.id === run.deployment_id)?.name ??
          null
        }
        now={now}
        commands={commands}
        onRefresh={() => void model.refresh()}
      />
      {model.error && <Banner kind="error">{model.error}</Banner>}
      {run.state_type === 'PAUSED' && (
        <PauseForm
          key={`${run.id}:${run.state_name}`}
          runId={run.id}
          onResumed={() => void model.refresh()}
        />
      )}
      {(problems.length > 0 || headline) && (
        <div className="jp-Flows-errors" role="alert">
          {headline && (
            <p className="jp-Flows-headline">
              {stateName(run)}: {headline}
            </p>
          )}
          {problems.map((text, i) => (
            <pre key={i} className="jp-Flows-error">
              {text}
            </pre>
          ))}
        </div>
      )}
      <Section id="graph" title="Graph" count={run.task_run_total}>
        {model.graph?.aggregated && (
          <p className="jp-Flows-detail">
            One node per task ({run.task_run_total.toLocaleString('en-US')} task
            runs); select a node to list its task runs.
          </p>
        )}
        {model.graph && (
          <RunGraph
            layout={model.graph}
            final={isFinal(run)}
            selected={selected}
            onSelect={onNode}
          />
        )}
        {model.graph && selectedTask && (
          <TaskDetails
            flowRunId={run.id}
            node={selectedTask}
            graph={model.graph}
            onClose={() => setSelected(null)}
          />
        )}
      </Section>
      <Section id="timeline" title="Timeline">
        <Timeline taskRuns={taskRuns} states={page?.states ?? []} now={now} />
      </Section>
      <Section id="tasks" title="Task runs" count={run.task_run_total}>
        {page && (page.total > TASK_PAGE || query.state || query.taskKey) ? (
          <TaskPager
            query={query}
            total={page.total}
            shown={taskRuns.length}
            pageSize={TASK_PAGE}
            onChange={change => void model.setTaskQuery(change)}
          />
        ) : null}
        <TaskTable
          taskRuns={taskRuns}
          selected={selected}
          now={now}
          onOpenRun={openRun}
          filtered={!!(query.state || query.taskKey)}
        />
      </Section>
      {model.artifactTotal > 0 && (
        <Section id="artifacts" title="Artifacts" count={model.artifactTotal}>
          <ArtifactCards
            artifacts={model.artifacts}
            taskNames={taskNames}
            rendermime={props.rendermime}
            now={now}
          />
        </Section>
      )}
      <Section id="parameters" title="Parameters">
        {Object.keys(run.parameters).length === 0 ? (
          <p className="jp-Flows-empty">No parameters.</p>
        ) : (
          <dl className="jp-Flows-facts jp-Flows-parameters">
            {Object.entries(run.parameters).map(([key, value]) => (
              <React.Fragment key={key}>
                <dt>{key}</dt>
                <dd>
                  <code>{JSON.stringify(value)}</code>
                </dd>
              </React.Fragment>
            ))}
          </dl>
        )}
      </Section>
      <Section id="logs" title="Logs" count={run.log_total}>
        <LogView
          logs={model.logs}
          live={!isFinal(run)}
          taskNames={taskNames}
          hasEarlier={model.hasEarlierLogs}
          onEarlier={() => void model.loadEarlierLogs()}
        />
      </Section>
    </div>
  );
}

/**
 * The content of a run's main area tab.
 */
export class RunView extends ReactWidget {
  constructor(
    readonly model: RunModel,
    private _commands: CommandRegistry,
    private _rendermime: IRenderMimeRegistry | null = null
  ) {
    super();
    this.addClass('jp-Flows-runView');
    model.changed.connect(this._onChanged, this);
  }

  render(): JSX.Element {
    return (
      <RunDetail
        model={this.model}
        commands={this._commands}
        rendermime={this._rendermime}
      />
    );
  }

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }

  private _onChanged(): void {
    const run = this.model.run;
    if (run && this.parent) {
      this.parent.title.label = `${run.flow_name} / ${run.name}`;
      this.parent.title.caption = `${run.flow_name} / ${run.name}: ${stateName(run)}`;
    }
  }
}

/**
 * A main area widget showing one flow run.
 */
export function createRunWidget(
  runId: string,
  flows: IFlowsModel,
  commands: CommandRegistry,
  rendermime: IRenderMimeRegistry | null = null
): MainAreaWidget<RunView> {
  const model = new RunModel(runId, flows);
  const content = new RunView(model, commands, rendermime);
  const widget = new MainAreaWidget({ content });
  widget.id = `jupyter-flows-run-${runId}`;
  widget.title.label = `Flow run ${runId.slice(0, 8)}`;
  widget.title.icon = flowsIcon;
  widget.title.closable = true;
  widget.addClass('jp-Flows-runWidget');
  void model.refresh();
  return widget;
}
