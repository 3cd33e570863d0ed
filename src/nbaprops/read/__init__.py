"""The read layer: one function per question, shared by the HTTP API, the dashboard and the CLI.

Below ``pipeline`` and ``api`` (import-linter's layers): nothing here writes, nothing
here imports the orchestrator, the web layer or the command line. Every function takes
an open (read-only is enough) connection and returns plain data (dicts, lists, dates,
numbers); every value a client sends reaches SQL as a bound parameter. Bad input raises
``read.params.BadRequestError`` (400) or ``NotFoundError`` (404) with one readable line.

Modules by concern: ``params`` (input, errors, echoes, scrubbing), ``convert`` (plain
values), ``status`` (health, phase records), ``predictions`` (a date's predictions and
signals), ``picks`` (picks, the champion's record, the ledger), ``track`` (track record
and grading), ``registry`` (experiments and models), ``monitoring`` (diagnostics and
alerts), ``availability`` (injury reports), ``player``.
"""
