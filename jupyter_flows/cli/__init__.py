"""The ``jupyter flows`` command (traitlets applications, Jupyter conventions)."""
