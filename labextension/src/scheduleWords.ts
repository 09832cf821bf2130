/**
 * Schedules in words: "Every day at 09:00 (Europe/Paris)".
 *
 * Cron expressions are put in words by `cronstrue` (a maintained, dependency-
 * free library that knows the 5-field syntax, ranges, steps and names).
 */
import cronstrue from 'cronstrue';

import { describeSchedule } from './format';
import { Flows } from './tokens';

/** "At 09:00, every day" -> "Every day at 09:00". */
function reorder(text: string): string {
  const daily = /^At (.+), every day$/.exec(text);
  if (daily) {
    return `Every day at ${daily[1]}`;
  }
  const weekly = /^At (.+), only on (\w+)$/.exec(text);
  if (weekly) {
    return `Every ${weekly[2]} at ${weekly[1]}`;
  }
  return text;
}

/** A cron string in words; null if it is not one cronstrue can read. */
export function cronInWords(cron: string): string | null {
  try {
    return reorder(
      cronstrue.toString(cron, {
        use24HourTimeFormat: true,
        verbose: true,
        throwExceptionOnParseError: true
      })
    );
  } catch {
    return null;
  }
}

/** A schedule in words, with its time zone. */
export function scheduleInWords(schedule: Flows.ISchedule): string {
  const zone = ` (${schedule.timezone ?? 'UTC'})`;
  if (schedule.cron) {
    const words = cronInWords(schedule.cron);
    if (words) {
      return words + zone;
    }
  }
  const plain = describeSchedule(schedule);
  return plain.charAt(0).toUpperCase() + plain.slice(1);
}
