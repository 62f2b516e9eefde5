"""Who may use the workbench, and what its pages allow a browser to do.

* On 127.0.0.1 (the default) only this computer reaches the server. A page of some other
  site open in the same browser could still send requests to it: the Host header must name
  this computer (a site's own name resolving to 127.0.0.1, "DNS rebinding", is refused) and
  every form that changes something carries a secret of this server's run (CSRF).
* On any other address a token is required (`--token`, or one generated and printed): in the
  link printed at start (`?token=`, then kept in a cookie only this site is sent, and taken
  out of the address), or in an `Authorization: Bearer` header. Every request is checked, pages,
  files and uploads alike.
* Every response forbids what the pages do not need: scripts and styles from elsewhere, frames,
  forms sent elsewhere, the referrer.
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode, urlsplit

from flask import Flask, abort, g, redirect, request

COOKIE = "scoring_token"
LOCAL_HOSTS = {"localhost", "::1"}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_local(host: str) -> bool:
    return host in LOCAL_HOSTS or host.startswith("127.")


class Guard:
    def __init__(self, token: str | None, local_only: bool):
        self.token = token
        self.local_only = local_only  # listening on the loopback address: Host must name it
        self.csrf = secrets.token_urlsafe(24)

    def install(self, app: Flask) -> None:
        app.before_request(self.check)
        app.after_request(self.headers)
        app.jinja_env.globals["csrf"] = self.csrf

    def check(self):
        if self.local_only and not is_local(urlsplit("//" + request.host).hostname or ""):
            g.refused = True  # the refusal page carries its own style: its style sheet would be refused too
            abort(403, "此工作台只接受本机地址（127.0.0.1 或 localhost）的访问")
        if self.token is not None:
            given = request.args.get("token")
            if given is not None and self._matches(given):
                rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
                response = redirect(request.path + ("?" + urlencode(rest) if rest else ""), code=303)
                response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
                return response
            header = request.headers.get("Authorization", "")
            bearer = header[7:] if header.startswith("Bearer ") else None
            if not any(self._matches(t) for t in (request.cookies.get(COOKIE), bearer) if t):
                g.refused = True
                abort(403, "需要有效的访问令牌：请使用启动时打印的链接")
        if request.method == "POST" and not hmac.compare_digest(request.form.get("csrf", ""), self.csrf):
            abort(403, "表单已失效（服务已重启，或来自其他网站）：请刷新页面后重试")
        return None

    def _matches(self, given: str) -> bool:
        return hmac.compare_digest(given.encode("utf-8"), self.token.encode("utf-8"))

    @staticmethod
    def headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
