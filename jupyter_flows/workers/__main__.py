"""``python -m jupyter_flows.workers`` is ``jupyter flows worker``."""

from ..cli.worker import main

main()
