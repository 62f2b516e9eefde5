"""`scoring serve`: the workbench on waitress, a production WSGI server in pure Python.

Listens on 127.0.0.1 unless told otherwise; on any other address a token is required, the
one given or one generated here and printed in the address to open.
"""
from __future__ import annotations

import secrets
from pathlib import Path

import waitress

from scoring.base.i18n import _

from .inputs import LIMITS
from .jobs import Worker, ready
from .security import is_local
from .views import Settings, create_app

THREADS = 8  # requests served at once; the jobs that score wait for one of Settings.processes


def settings_for(host: str, workdir: str, store: str, rules: str | None, token: str | None) -> Settings:
    """What the options mean: paths made absolute (jobs run elsewhere), a token wherever one is needed."""
    local = is_local(host)
    if not local and token is None:
        token = secrets.token_urlsafe(24)
    return Settings(Path(workdir).resolve(), Path(store).resolve(), Path(rules).resolve() if rules else None, token,
                    local_only=local)


def server_for(settings: Settings, host: str, port: int, worker: Worker | None = None):
    worker = worker or Worker(settings.processes)
    worker.run(ready)  # the library loaded before the first page asks for it
    return waitress.create_server(create_app(settings, worker), host=host, port=port, threads=THREADS,
                                  max_request_body_size=max(LIMITS.values()) * 2, ident="scoring")


def address(host: str, port: int, token: str | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(host: str, port: int, workdir: str, store: str, rules: str | None, token: str | None, echo=print) -> None:
    settings = settings_for(host, workdir, store, rules, token)
    settings.workdir.mkdir(parents=True, exist_ok=True)
    server = server_for(settings, host, port)
    echo(_("Scoring workbench: {address}").format(address=address(host, server.effective_port, settings.token)))
    echo(_("run store {store}; uploads in {uploads}; rules {rules}; Ctrl-C stops it").format(
        store=settings.store, uploads=settings.workdir / "uploads", rules=settings.rules or _("(none)")))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()

