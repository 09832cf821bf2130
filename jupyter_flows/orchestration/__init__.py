"""Deployments, schedules, work pools and workers: the orchestration domain (no HTTP here)."""
