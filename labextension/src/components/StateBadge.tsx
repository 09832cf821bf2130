import React from 'react';

import { stateColor } from '../format';

/**
 * A run's state as a coloured pill (the report's colours).
 */
export function StateBadge(props: { state: string }): JSX.Element {
  const style = { '--jp-flows-state-color': stateColor(props.state) };
  return (
    <span
      className="jp-Flows-badge"
      data-state={props.state}
      style={style as React.CSSProperties}
    >
      {props.state}
    </span>
  );
}
