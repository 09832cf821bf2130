"""The Jupyter server extension: REST API, scheduler and embedded worker.

The only package that imports ``jupyter_server``/``tornado``; nothing imports it.
"""
