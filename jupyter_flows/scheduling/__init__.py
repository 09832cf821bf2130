"""Schedules of deployments: APScheduler 3 triggers and the scheduler service."""
