"""Speed measurements that print ratios, run as modules from the repository root.

``uv run python -m benchmarks.api`` rather than ``python benchmarks/api.py``: a
script's own folder comes first on sys.path, where ``api.py``, ``realtime.py`` and
``secret_store.py``'s neighbours would shadow our ``api`` and ``realtime`` packages.
Run as modules, nothing needs to edit sys.path.
"""
