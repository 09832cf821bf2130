/**
 * Formatting shared by the components: state colours, durations, times.
 */
import { FINAL } from './generated/states';
import { Flows } from './tokens';

/** The state types of a run that went wrong (no `state_policy` group yet). */
export const BAD: readonly Flows.StateType[] = ['FAILED', 'CRASHED'];

/** Whether a state type is in a group (`null`: no state yet, in none). */
export function inGroup(
  group: readonly string[],
  type: string | null | undefined
): boolean {
  return type !== null && type !== undefined && group.includes(type);
}

/** The state colours of the Python report (`jupyter_flows.reports.svg`). */
export const STATE_COLORS: Record<string, string> = {
  Completed: '#2e9e5b',
  Cached: '#1f9e9e',
  Failed: '#d64545',
  TimedOut: '#d64545',
  Crashed: '#d64545',
  Running: '#3b7dd8',
  Retrying: '#3b7dd8',
  Pending: '#9aa0a6',
  Scheduled: '#9aa0a6',
  AwaitingRetry: '#9aa0a6',
  Late: '#9aa0a6',
  Cancelled: '#5f6368',
  Cancelling: '#5f6368',
  Paused: '#9aa0a6'
};

/** The state names offered by the run filter (every state a run can be in). */
export const FILTER_STATES = [
  'Scheduled',
  'Late',
  'AwaitingConcurrencySlot',
  'Pending',
  'Running',
  'Retrying',
  'AwaitingRetry',
  'Cancelling',
  'Completed',
  'Cached',
  'Failed',
  'TimedOut',
  'Crashed',
  'Cancelled',
  'Paused',
  'Suspended'
];

/** The kinds of runs (`DescribeFlowRunItem.kind`). */
export const RUN_KINDS: readonly Flows.IDescribeFlowRunItem['kind'][] = [
  'interactive',
  'scheduled',
  'manual',
  'subflow'
];

/** A local calendar date (`YYYY-MM-DD`, of a date input) as the ISO time its day starts. */
export function dayStart(date: string, days = 0): string | undefined {
  const [y, m, d] = date.split('-').map(Number);
  if (!y || !m || !d) {
    return undefined;
  }
  return new Date(y, m - 1, d + days).toISOString();
}

export function stateColor(state: string | null | undefined): string {
  return STATE_COLORS[state ?? ''] ?? '#9aa0a6';
}

/** The display name of a run's state ("Pending" before any state). */
export function stateName(run: Flows.IRunColumns): string {
  if (run.state_name) {
    return run.state_name;
  }
  if (run.state_type) {
    const t = run.state_type.toLowerCase();
    return t.charAt(0).toUpperCase() + t.slice(1);
  }
  return 'Pending';
}

export function isFinal(run: Flows.IRunColumns): boolean {
  return inGroup(FINAL, run.state_type);
}

function ms(time: string | null | undefined): number | null {
  if (!time) {
    return null;
  }
  const value = Date.parse(time);
  return isNaN(value) ? null : value;
}

export { ms as parseTime };

/** Seconds the run took (or has been running for). */
export function durationSeconds(
  run: Flows.IRunColumns,
  now = Date.now()
): number | null {
  const start = ms(run.start_time);
  if (start === null) {
    return null;
  }
  const end = ms(run.end_time) ?? (isFinal(run) ? start : now);
  return Math.max(0, (end - start) / 1000);
}

/** "0.42s", "12.3s", "4m 05s", "2h 03m". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) {
    return '–';
  }
  if (seconds < 0.001) {
    return '<1ms';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)}ms`;
  }
  if (seconds < 10) {
    return `${seconds.toFixed(2)}s`;
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)}s`;
  }
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m ${pad(seconds % 60)}s`;
  }
  return `${Math.floor(seconds / 3600)}h ${pad((seconds % 3600) / 60)}m`;
}

/** "in 5m", "3h ago", from an ISO time. */
export function formatRelative(
  time: string | null | undefined,
  now = Date.now()
): string {
  const at = ms(time);
  if (at === null) {
    return '–';
  }
  const delta = (at - now) / 1000;
  const abs = Math.abs(delta);
  let text: string;
  if (abs < 5) {
    return 'now';
  } else if (abs < 60) {
    text = `${Math.round(abs)}s`;
  } else if (abs < 3600) {
    text = `${Math.round(abs / 60)}m`;
  } else if (abs < 86400) {
    text = `${Math.round(abs / 3600)}h`;
  } else {
    text = `${Math.round(abs / 86400)}d`;
  }
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

/** A local date and time, for tooltips and tables. */
export function formatTime(time: string | null | undefined): string {
  const at = ms(time);
  return at === null ? '–' : new Date(at).toLocaleString();
}

/** A schedule in words: the cron line, "every 5m", or "once at ...". */
export function describeSchedule(schedule: Flows.ISchedule): string {
  const zone =
    schedule.timezone && schedule.timezone !== 'UTC'
      ? ` (${schedule.timezone})`
      : '';
  if (schedule.cron) {
    return `cron ${schedule.cron}${zone}`;
  }
  if (schedule.rrule) {
    return `rrule ${schedule.rrule}${zone}`;
  }
  if (schedule.interval_seconds) {
    return `every ${formatDuration(schedule.interval_seconds).replace(
      /\.0+s$/,
      's'
    )}`;
  }
  if (schedule.date) {
    return `once at ${formatTime(schedule.date)}`;
  }
  return 'manual';
}

const LEVELS: [number, string][] = [
  [50, 'CRITICAL'],
  [40, 'ERROR'],
  [30, 'WARNING'],
  [20, 'INFO'],
  [10, 'DEBUG']
];

export function levelName(level: number): string {
  for (const [at, name] of LEVELS) {
    if (level >= at) {
      return name;
    }
  }
  return 'NOTSET';
}

/**
 * An object as compact JSON when it is short (at most ``max`` characters), else ``null``:
 * job variables and template defaults are shown only when they are small.
 */
export function shortJson(value: object, max = 120): string | null {
  const text = JSON.stringify(value);
  return text.length <= max ? text : null;
}
