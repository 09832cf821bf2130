"""Prefect's ``prefect.deployments``: ``run_deployment``, and deployments built from flows
(``flow.to_deployment``) that ``serve`` runs from this process or ``deploy`` hands to a
server's work pools."""

from __future__ import annotations

from .flow_runs import run_deployment
from .runner import RunnerDeployment, deploy, serve

__all__ = ["RunnerDeployment", "run_deployment", "serve", "deploy"]
