"""IPython side of jupyter-flows: the ``%%task`` / ``%flow`` magics (the only IPython importer)."""
