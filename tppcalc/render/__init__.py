"""Renderers: documents (JSON), text tables, charts and HTML reports."""
