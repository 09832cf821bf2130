"""Talking to a jupyter-flows server from outside it: finding it, its REST API, deploying.

A layer above ``orchestration`` (it reaches the server only over HTTP). ``FlowsClient``
(``client.http``) is the one HTTP client: the CLI, workers, run processes, the kernel's
magics and ``jupyter_flows.deploy`` use it.
"""
