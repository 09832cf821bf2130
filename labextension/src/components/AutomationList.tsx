import React from 'react';

import { formatRelative, formatTime, parseTime } from '../format';
import { Flows } from '../tokens';

type Action = Flows.IAutomationAction;

/** Where a webhook goes, without its path (which may be a credential). */
function where(url: string): string {
  try {
    const parts = new URL(url);
    return `${parts.protocol}//${parts.host}`;
  } catch {
    return 'a webhook';
  }
}

/** "run report", "cancel the flow run", "notify https://hooks.slack.com". */
export function describeAction(action: Action): string {
  switch (action.type) {
    case 'run-deployment':
    case 'pause-deployment':
    case 'resume-deployment':
      return `${action.type.split('-')[0]} ${action.deployment}`;
    case 'cancel-flow-run':
      return 'cancel the flow run';
    case 'suspend-flow-run':
      return 'suspend the flow run';
    case 'change-flow-run-state':
      return `set the flow run ${action.state}`;
    case 'send-notification':
      if (action.email) {
        return `email ${action.email.to.join(', ')}`;
      }
      if (action.webhook?.url_secret) {
        return `notify secret ${action.webhook.url_secret}`;
      }
      return `notify ${where(action.webhook?.url ?? '')}`;
  }
  return (action as { type: string }).type;
}

/**
 * "when flow-run.Completed (deployment = upstream) 3× within 60 s → run downstream",
 * "when no heartbeat within 60 s → notify https://hooks.slack.com".
 */
export function describeAutomation(
  automation: Flows.IDescribeAutomation
): string {
  const { trigger, action } = automation;
  const match = Object.entries(trigger.match).map(
    ([key, value]) =>
      `${key} = ${typeof value === 'string' ? value : JSON.stringify(value)}`
  );
  const matched = match.length ? ` (${match.join(', ')})` : '';
  let when: string;
  if (trigger.posture === 'Proactive') {
    when = `no ${trigger.event}${matched} within ${trigger.within_seconds} s`;
    if (trigger.after?.length) {
      when += ` after ${trigger.after.join(' or ')}`;
    }
  } else {
    when = trigger.event + matched;
    if (trigger.threshold > 1) {
      when += ` ${trigger.threshold}×`;
      if (trigger.within_seconds) {
        when += ` within ${trigger.within_seconds} s`;
      }
    }
  }
  if (trigger.for_each?.length) {
    when += ` per ${trigger.for_each.join('/')}`;
  }
  return `when ${when} → ${describeAction(action)}`;
}

/**
 * The newest `automation.*` event of each automation (by name), ignoring
 * events older than the automation (an earlier one of the same name).
 */
function lastOutcomes(
  automations: Flows.IDescribeAutomation[],
  events: Flows.IDescribeEvent[]
): Map<string, Flows.IDescribeEvent> {
  const outcomes = new Map<string, Flows.IDescribeEvent>();
  for (const a of automations) {
    const created = parseTime(a.created) ?? 0;
    const last = events.find(
      e =>
        e.payload.automation === a.name &&
        (parseTime(e.occurred) ?? 0) >= created
    );
    if (last) {
      outcomes.set(a.name, last);
    }
  }
  return outcomes;
}

function fired(automation: Flows.IDescribeAutomation, now: number): string {
  const n = automation.fired_count;
  if (n === 0) {
    return 'never fired';
  }
  const when = formatRelative(automation.last_fired, now);
  const last = when === 'now' ? 'just now' : when;
  return `fired ${n} ${n === 1 ? 'time' : 'times'} · last ${last}`;
}

/**
 * Automations: what triggers them, what they do, how often they fired,
 * their last failure and an enabled toggle.
 */
export function AutomationList(props: {
  automations: Flows.IDescribeAutomation[];
  events: Flows.IDescribeEvent[];
  now: number;
  busy: Set<string>;
  onToggle: (automation: Flows.IDescribeAutomation) => void;
  onDelete?: (automation: Flows.IDescribeAutomation) => void;
}): JSX.Element {
  if (props.automations.length === 0) {
    return (
      <p className="jp-Flows-empty">
        No automations yet. Create one with{' '}
        <code>jupyter flows automations create</code> or POST{' '}
        <code>/jupyter-flows/api/automations</code>.
      </p>
    );
  }
  const outcomes = lastOutcomes(props.automations, props.events);
  return (
    <ul className="jp-Flows-list" aria-label="Automations">
      {props.automations.map(a => {
        const outcome = outcomes.get(a.name);
        const failed = outcome?.event === 'automation.failed';
        return (
          <li
            key={a.id}
            className="jp-Flows-automation"
            data-automation={a.name}
            data-enabled={a.enabled ? 'true' : 'false'}
          >
            <div className="jp-Flows-rowMain">
              <span
                className="jp-Flows-automationName"
                title={a.description ?? ''}
              >
                {a.name}
              </span>
              <span className="jp-Flows-detail jp-Flows-automationRule">
                {describeAutomation(a)}
              </span>
              <span
                className="jp-Flows-detail"
                title={a.last_fired ? formatTime(a.last_fired) : ''}
              >
                {fired(a, props.now)}
              </span>
            </div>
            <div className="jp-Flows-rowActions">
              <button
                className="jp-Flows-toggle"
                role="switch"
                aria-checked={a.enabled}
                aria-label={`${a.name} enabled`}
                title={
                  a.enabled ? 'Disable the automation' : 'Enable the automation'
                }
                disabled={props.busy.has(a.id)}
                onClick={() => props.onToggle(a)}
              >
                {a.enabled ? 'Enabled' : 'Disabled'}
              </button>
              {props.onDelete && (
                <button
                  className="jp-Flows-button jp-mod-warn"
                  aria-label={`Delete ${a.name}`}
                  disabled={props.busy.has(a.id)}
                  onClick={() => props.onDelete?.(a)}
                >
                  Delete
                </button>
              )}
            </div>
            {failed && outcome && (
              <p
                className="jp-Flows-automationError"
                title={formatTime(outcome.occurred)}
              >
                Failed {formatRelative(outcome.occurred, props.now)}:{' '}
                {String(outcome.payload.error ?? 'unknown error')}
              </p>
            )}
          </li>
        );
      })}
    </ul>
  );
}
