"""textual-serve's Server with what a dashboard that can act on production needs: a token for every page and
websocket (given or generated; required off loopback), a same-origin check on the websocket, a start line
that names no secret, and a stop that ends every open session's rqtop process with it."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

TOKEN_COOKIE = "rqtop_token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1), which only this machine reaches."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A random token for ``--token auto``."""
    return secrets.token_urlsafe(18)


class DashboardServer(Server):
    """Serves ``command`` (one rqtop process per browser tab); ``token`` (None: none needed) guards every route
    but the static files, and the websocket accepts only pages served from this same host."""

    def __init__(self, command: str, host: str, port: int, token: str | None, public_url: str | None = None,
                 say: Callable[[str], None] = print) -> None:
        super().__init__(command, host=host, port=port, title="rqtop", public_url=public_url)
        self.token = token
        self.say = say
        self.sessions: set[web.WebSocketResponse] = set()
        """The browser sessions open now (each runs an rqtop process)."""

    @property
    def open_url(self) -> str:
        """The address to open in a browser (with the token, when there is one)."""
        return f"{self.public_url}/" + (f"?token={self.token}" if self.token else "")

    def _token_ok(self, request: web.Request) -> bool:
        """The request carries the token (query on the first page, then the cookie the page set)."""
        if self.token is None:
            return True
        given = request.query.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse a request without the token, and a websocket opened by a page of another origin."""
        if request.path.startswith("/static/"):
            return await handler(request)
        if not self._token_ok(request):
            raise web.HTTPForbidden(text="rqtop serve: this dashboard needs its token: open the address "
                                         "`rqtop serve` printed (…/?token=…)\n")
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin and origin not in (f"http://{request.host}", f"https://{request.host}"):
            raise web.HTTPForbidden(text="rqtop serve: websocket from another origin refused\n")
        response = await handler(request)
        if self.token is not None and request.path == "/" and request.query.get("token"):
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="Strict")
        return response

    async def _make_app(self) -> web.Application:
        """textual-serve's routes behind the guard."""
        app = await super()._make_app()
        app.middlewares.append(self.guard)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """One line saying where to point the browser (the Redis URL is never on it)."""
        self.say(f"rqtop serve: open {self.open_url} (Ctrl+C stops)")

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service: AppService) -> None:
        """textual-serve's loop over one session's messages, with the session counted while it runs."""
        self.sessions.add(websocket)
        try:
            await super()._process_messages(websocket, app_service)
        finally:
            self.sessions.discard(websocket)

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every open session: its loop ends and textual-serve tells its rqtop process to quit. Without
        this, aiohttp waited on the open sessions until killed, and their processes outlived the server, each
        still reading Redis with no one watching."""
        for websocket in list(self.sessions):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"rqtop serve is stopping")

