"""The live run-graph widget (anywidget); may import core, never the server."""
