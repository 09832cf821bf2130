import React, { useEffect, useRef, useState } from 'react';

import { levelName } from '../format';
import { Flows } from '../tokens';

/**
 * Log lines; follows the tail while the run is live, unless the user
 * scrolled up or turned following off.
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
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el && follow) {
      el.scrollTop = el.scrollHeight;
    }
  }, [props.logs.length, follow]);
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
      <label className="jp-Flows-follow">
        <input
          type="checkbox"
          checked={follow}
          onChange={e => setFollow(e.target.checked)}
        />{' '}
        Follow{props.live ? ' (live)' : ''}
      </label>
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
        {props.logs.length === 0 ? (
          <p className="jp-Flows-empty">No log lines.</p>
        ) : (
          props.logs.map(log => {
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
