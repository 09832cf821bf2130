"""Prefect's ``prefect.blocks``: ``core.Block`` (typed configuration saved by name),
``system.Secret``, ``fields.SecretDict``. See ``jupyter_flows.blocks.core``."""
