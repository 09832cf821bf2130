"""Prefect's ``prefect.locking``: lock managers for serializable transactions."""
