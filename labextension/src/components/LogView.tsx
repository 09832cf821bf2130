import React, { useEffect, useRef, useState } from 'react';

import { levelName } from '../format';
import { Flows } from '../tokens';

/** The level filter's choices: the lowest level shown. */
const MIN_LEVELS: [number, string][] = [
  [0, 'All levels'],
  [10, 'DEBUG and up'],
  [20, 'INFO and up'],
  [30, 'WARNING and up'],
  [40, 'ERROR and up']
];

/**
 * Log lines; follows the tail while the run is live, unless the user
 * scrolled up or turned following off. A level filter and a text search
 * narrow the loaded lines.
 */
export function LogView(props: {
  logs: Flows.IDescribeLog[];
  live: boolean;
  taskNames: Map<string, string>;
  /** Older lines exist: offer to load them. */
  hasEarlier?: boolean;
  onEarlier?: () => void;
}): JSX.Element {
  const [follow, setFollow] = useState(true);
  const [minLevel, setMinLevel] = useState(0);
  const [search, setSearch] = useState('');
  const needle = search.trim().toLowerCase();
  const shown = props.logs.filter(
    log =>
      log.level >= minLevel &&
      (!needle || log.message.toLowerCase().includes(needle))
  );
  const filtered = minLevel > 0 || needle !== '';
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el && follow) {
      el.scrollTop = el.scrollHeight;
    }
  }, [shown.length, follow]);
  const onScroll = () => {
    const el = box.current;
    if (el) {
      const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
      if (atBottom !== follow) {
        setFollow(atBottom);
      }
    }
  };
  return (
    <div className="jp-Flows-logs">
      <div className="jp-Flows-logTools">
        <select
          className="jp-Flows-input"
          aria-label="Log level"
          value={minLevel}
          onChange={e => setMinLevel(Number(e.target.value))}
        >
          {MIN_LEVELS.map(([level, label]) => (
            <option key={level} value={level}>
              {label}
            </option>
          ))}
        </select>
        <input
          className="jp-Flows-input"
          type="search"
          aria-label="Search logs"
          placeholder="Search logs"
          value={search}
          onChange={e => setSearch(e.target.value)}
        />
        {filtered && (
          <span className="jp-Flows-detail" aria-live="polite">
            {shown.length} of {props.logs.length} lines
          </span>
        )}
        <label className="jp-Flows-follow">
          <input
            type="checkbox"
            checked={follow}
            onChange={e => setFollow(e.target.checked)}
          />{' '}
          Follow{props.live ? ' (live)' : ''}
        </label>
      </div>
      <div
        className="jp-Flows-logBox"
        ref={box}
        onScroll={onScroll}
        tabIndex={0}
        role="log"
        aria-live={props.live ? 'polite' : 'off'}
        aria-label="Run logs"
      >
        {props.hasEarlier && props.onEarlier && (
          <button
            className="jp-Flows-link jp-Flows-earlier"
            onClick={props.onEarlier}
          >
            Load earlier lines
          </button>
        )}
        {shown.length === 0 ? (
          <p className="jp-Flows-empty">
            {filtered ? 'No loaded log line matches.' : 'No log lines.'}
          </p>
        ) : (
          shown.map(log => {
            const level = levelName(log.level);
            const task = log.task_run_id
              ? props.taskNames.get(log.task_run_id)
              : undefined;
            return (
              <div key={log.id} className="jp-Flows-logLine" data-level={level}>
                <span className="jp-Flows-logTime">
                  {new Date(log.timestamp).toLocaleTimeString()}
                </span>
                <span className="jp-Flows-logLevel">{level}</span>
                {task && <span className="jp-Flows-logTask">{task}</span>}
                <span className="jp-Flows-logMessage">{log.message}</span>
              </div>
            );
          })
        )}
      </div>
    </div>
  );
}
