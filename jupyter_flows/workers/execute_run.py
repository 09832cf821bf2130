"""The child process of a worker: runs one claimed flow run and records it.

``python -m jupyter_flows.workers.execute_run FLOW_RUN_ID ENTRYPOINT PARAMETERS_JSON ROOT OUT``
Exit code 0: Completed; 1: the flow failed; 2: it could not start.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    flow_run_id, entrypoint, parameters_json, root, outputs = argv
    parameters = json.loads(parameters_json)
    root_dir, outputs_dir = Path(root), Path(outputs)
    from ..core.settings import get_recorder
    from ..core.states import Completed, Failed, Running
    from ..exceptions import FlowsError
    from ..execution.entrypoints import is_notebook, load_flow

    recorder = get_recorder()
    if is_notebook(entrypoint):
        from ..execution.notebook import run_notebook

        recorder.set_state("flow", flow_run_id, Running(), 1)
        recorder.flush()
        out = outputs_dir / flow_run_id / Path(entrypoint).name
        try:
            run_notebook(root_dir / entrypoint, parameters, out, flow_run_id)
        except FlowsError as exc:
            recorder.set_state("flow", flow_run_id, Failed(message=str(exc)), 1)
            recorder.flush()
            print(str(exc), file=sys.stderr)
            return 1
        recorder.set_state("flow", flow_run_id, Completed(message=f"output: {out}"), 1)
        recorder.flush()
        return 0
    from ..core.engine import run_flow

    try:
        flow = load_flow(entrypoint, root_dir)
    except FlowsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    state = run_flow(flow, (), parameters, return_state=True, flow_run_id=flow_run_id)
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
