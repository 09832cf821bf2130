"""Talking to a jupyter-flows server from outside it: finding it, deploying, parameters.

A layer above ``orchestration`` (it only reaches the server over HTTP); the CLI, the kernel's
magics and ``jupyter_flows.deploy`` use it.
"""
