"""Benchmarks behind ``livesr bench``.

Each part lives in its own module and exposes ``bench_<part>(...) -> list[dict[str, Any]]``
(one row per measured configuration); ``cli/_bench.py`` renders rows as tables and JSON.
Like the CLI, benchmarks sit on top of every other package.
"""
