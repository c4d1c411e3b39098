"""Root conftest: keeps the repository's own pytest runs self-contained.

Contexts live under contexts/ and declare themselves in their own conftest.py; the
plugin itself is registered through the ``pytest11`` entry point, not from here.
"""

collect_ignore = ["benchmarks", "templates", "scripts"]
