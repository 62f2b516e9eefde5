"""`scoring serve`: the workbench on waitress, a production WSGI server in pure Python.

Listens on 127.0.0.1 unless told otherwise; on any other address a token is required, the
one given or one generated here and printed in the address to open.
"""
from __future__ import annotations

import secrets
from pathlib import Path

import waitress

from .inputs import LIMITS
from .jobs import Worker, ready
from .security import is_local
from .views import Settings, create_app

THREADS = 8  # requests served at once; the jobs that score wait for one of Settings.processes


def serve(host: str, port: int, workdir: str, store: str, rules: str | None, token: str | None,
          echo=print) -> None:
    local = is_local(host)
    if not local and token is None:
        token = secrets.token_urlsafe(24)
    settings = Settings(Path(workdir).resolve(), Path(store).resolve(), Path(rules).resolve() if rules else None, token,
                        local_only=local)
    settings.workdir.mkdir(parents=True, exist_ok=True)
    worker = Worker(settings.processes)
    worker.run(ready)  # the library loaded before the first page asks for it
    server = waitress.create_server(create_app(settings, worker), host=host, port=port, threads=THREADS,
                                    max_request_body_size=max(LIMITS.values()) * 2, ident="scoring")
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{server.effective_port}/" + (f"?token={token}" if token else "")
    echo(f"评分工作台: {address}")
    echo(f"run store {settings.store}; uploads in {settings.workdir / 'uploads'}; "
         f"rules {settings.rules or '(none)'}; Ctrl-C stops it")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
