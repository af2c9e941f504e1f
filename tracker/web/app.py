"""The FastAPI application: pages, the JSON API, feeds, health and metrics, behind one guard."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from tracker import __version__
from tracker.config import Settings
from tracker.services.stories import StoryError, StoryNotFound
from tracker.store.db import Database
from tracker.web import alerts, api, cards, changes, feeds, manage, metrics, pages
from tracker.web import search as search_pages
from tracker.web.deps import EngineHolder
from tracker.web.security import (
    CSRF_COOKIE,
    PAGE_CSP,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    Guard,
    HostPolicy,
    LoginLimiter,
    new_csrf_cookie,
)
from tracker.web.templating import make_templates

HERE = Path(__file__).resolve().parent
# Reachable without credentials: probes, the login form, and the stylesheet it uses.
PUBLIC_PATHS = ("/healthz", "/login", "/static/")


def create_app(db: Database, settings: Settings) -> FastAPI:
    """The web app over `db`. Raises WebConfigError for an unsafe binding without a token."""
    guard = Guard.from_settings(settings)
    engines = EngineHolder(db, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engines.close()

    app = FastAPI(
        title="tracker",
        version=__version__,
        description="Live-story update tracker: stories, versions, word-level diffs, checks.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI needs scripts from a CDN; our CSP allows ours only
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.db = db
    app.state.settings = settings
    app.state.guard = guard
    app.state.hosts = HostPolicy.from_settings(settings)
    app.state.login_limiter = LoginLimiter()
    app.state.engines = engines
    app.state.templates = make_templates(HERE / "templates", guard)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(cards.api_router)
    app.include_router(cards.page_router)
    app.include_router(changes.api_router)
    app.include_router(changes.page_router)
    app.include_router(feeds.router)
    app.include_router(metrics.router)
    app.include_router(pages.router)
    app.include_router(manage.router)
    app.include_router(search_pages.router)
    _install_error_handlers(app)
    _install_middleware(app, guard, app.state.hosts)
    return app


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/feeds/", "/metrics", "/healthz"))


def _install_middleware(app: FastAPI, guard: Guard, hosts: HostPolicy) -> None:
    @app.middleware("http")
    async def guard_and_harden(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        denied = (
            _refuse_host(request, hosts)
            or _authenticate(request, guard)
            or _refuse_cross_site_api_write(request, guard, hosts)
        )
        if denied is not None:
            response = denied
        else:
            csrf_cookie = request.cookies.get(CSRF_COOKIE)
            fresh_cookie = None
            if not csrf_cookie:
                csrf_cookie = fresh_cookie = new_csrf_cookie()
            request.state.csrf_cookie = csrf_cookie
            response = await call_next(request)
            if fresh_cookie is not None and not _wants_json(request):
                response.set_cookie(
                    CSRF_COOKIE,
                    fresh_cookie,
                    httponly=True,
                    samesite="strict",
                    secure=request.url.scheme == "https",
                )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        return response


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _refuse_host(request: Request, hosts: HostPolicy) -> Response | None:
    """DNS rebinding: a hostile name pointed at this address still sends its own Host."""
    if hosts.host_ok(request.headers.get("host")):
        return None
    return PlainTextResponse(
        "unknown Host: this tracker answers to its web_host, its base_url's host and "
        "loopback (127.0.0.1, [::1], localhost) only",
        status_code=421,
    )


def _refuse_cross_site_api_write(
    request: Request, guard: Guard, hosts: HostPolicy
) -> Response | None:
    """An API write needs a JSON body type or the token: a cross-site form or a "simple"
    request (text/plain, form encoding, no preflight) can send neither."""
    if request.method not in WRITE_METHODS or not request.url.path.startswith("/api/"):
        return None
    if guard.required:
        return None  # _authenticate let it through: it carries the bearer token
    content_type = request.headers.get("content-type")
    if content_type is not None:
        mime = content_type.partition(";")[0].strip().lower()
        if mime == "application/json" or (
            mime.startswith("application/") and mime.endswith("+json")
        ):
            return None
        return JSONResponse(
            {"detail": "API writes need 'Content-Type: application/json' (or the bearer token)"},
            status_code=415,
        )
    # No body type (a body-less POST or DELETE, as curl sends): fine from a script, but not
    # from another site's page, which a browser marks with Origin or Sec-Fetch-Site.
    origin = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site")
    if (origin is not None and not hosts.origin_ok(origin, request)) or site not in (
        None,
        "same-origin",
        "none",
    ):
        return JSONResponse({"detail": "cross-site API write refused"}, status_code=403)
    return None


def _authenticate(request: Request, guard: Guard) -> Response | None:
    """None when the request may proceed, else the response refusing it."""
    if not guard.required:
        return None
    path = request.url.path
    if path.startswith(PUBLIC_PATHS):
        return None
    if guard.bearer_ok(request):
        return None
    safe_method = request.method in ("GET", "HEAD")
    if path.startswith("/feeds/") and guard.feed_key_ok(request.query_params.get("key")):
        return None
    if path.startswith(("/api/", "/feeds/", "/metrics")):
        # Cookies authenticate reads only: an API write needs the bearer token, so no
        # cross-site form can make one.
        if safe_method and guard.has_session(request):
            return None
        return JSONResponse(
            {"detail": "authentication required: send 'Authorization: Bearer <token>'"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="tracker"'},
        )
    if guard.has_session(request):
        return None
    if not safe_method:
        return JSONResponse({"detail": "log in first"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    from urllib.parse import quote

    response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _install_error_handlers(app: FastAPI) -> None:
    def respond(request: Request, status: int, message: Any) -> Response:
        if _wants_json(request) or not isinstance(message, str):
            return JSONResponse({"detail": message}, status_code=status)
        return pages.error_page(request, status, message)

    @app.exception_handler(StoryNotFound)
    async def not_found(request: Request, exc: StoryNotFound) -> Response:
        return respond(request, 404, str(exc))

    @app.exception_handler(alerts.NotFound)
    async def alert_not_found(request: Request, exc: alerts.NotFound) -> Response:
        return respond(request, 404, str(exc))

    @app.exception_handler(StoryError)
    async def bad_request(request: Request, exc: StoryError) -> Response:
        return respond(request, 400, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = respond(request, exc.status_code, exc.detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            errors = [
                {k: v for k, v in error.items() if k in ("loc", "msg", "type")}
                for error in exc.errors()
            ]
            return JSONResponse({"detail": errors}, status_code=422)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
            for e in exc.errors()
        )
        return pages.error_page(request, 400, f"invalid request: {problems}")
