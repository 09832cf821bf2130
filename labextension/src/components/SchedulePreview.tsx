/**
 * The schedule part of "Schedule this notebook": the form's values, its
 * schedule, and a preview of the next runs.
 */
import React, { useEffect, useState } from 'react';

import { errorMessage, FlowsAPI } from '../api';
import { formatRelative } from '../format';
import { Flows } from '../tokens';
import type { IField } from './ParameterForm';

/** Seconds per interval unit. */
export const UNITS: Record<string, number> = {
  minutes: 60,
  hours: 3600,
  days: 86400
};

export interface IScheduleForm {
  name: string;
  kind: 'none' | 'cron' | 'interval';
  cron: string;
  every: string;
  unit: string;
  timezone: string;
  workPool: string;
  tags: string;
  /** null while the notebook's parameters are read. */
  fields: IField[] | null;
}

/** The schedule of the form, or null for a manual-only deployment. */
export function scheduleOf(form: IScheduleForm): Flows.ISchedule | null {
  if (form.kind === 'cron') {
    return { cron: form.cron.trim(), timezone: form.timezone };
  }
  if (form.kind === 'interval') {
    const seconds = Number(form.every) * (UNITS[form.unit] ?? 60);
    return { interval_seconds: seconds, timezone: form.timezone };
  }
  return null;
}

/** The field of the schedule a message is about: the time zone, else the schedule. */
export function scheduleField(
  message: string
): 'timezone' | 'schedules' | null {
  if (/time ?zone/i.test(message)) {
    return 'timezone';
  }
  return /cron|interval|rrule|schedule/i.test(message) ? 'schedules' : null;
}

/** The next runs of the schedule; why it has none goes to `onError` (shown at its field). */
export function Preview(props: {
  form: IScheduleForm;
  onError: (message: string | null) => void;
}): JSX.Element | null {
  const { form, onError } = props;
  const [items, setItems] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const schedule = scheduleOf(form);
  const key = JSON.stringify(schedule);
  useEffect(() => {
    if (!schedule) {
      return;
    }
    let live = true;
    const timer = window.setTimeout(async () => {
      try {
        const next = await FlowsAPI.previewSchedule({
          cron: schedule.cron ?? undefined,
          interval_seconds: schedule.interval_seconds ?? undefined,
          timezone: schedule.timezone,
          n: 5
        });
        if (live) {
          setItems(next);
          setError(null);
          onError(null);
        }
      } catch (e) {
        if (live) {
          setItems([]);
          setError(errorMessage(e));
          onError(errorMessage(e));
        }
      }
    }, 300);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [key]);
  if (!schedule) {
    return (
      <p className="jp-Flows-detail">No schedule: runs start with “Run now”.</p>
    );
  }
  if (error) {
    return null; // shown at the field it is about
  }
  return (
    <div className="jp-Flows-preview" aria-live="polite">
      <span className="jp-Flows-detail">Next runs:</span>
      <ol>
        {items.map(at => (
          <li key={at}>
            {new Date(at).toLocaleString()}{' '}
            <span className="jp-Flows-detail">({formatRelative(at)})</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
