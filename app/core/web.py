"""Templates, security headers, the client address and signed tokens shared by the pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from jinja2 import Environment, pass_context
from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import i18n, links, site
from app.core.workflow import STAFF_LABELS
from app.settings import Settings

CRITERION_NAMES = {
    "analysis": i18n.N_("Analysis"),
    "fact_accuracy": i18n.N_("Fact accuracy"),
    "concision": i18n.N_("Concision"),
    "interest_style": i18n.N_("Interest and style"),
    "topic_knowledge": i18n.N_("Topic knowledge"),
}
# Column headings of the scores table; a shortened one is shown inside <abbr> with the full name.
CRITERION_SHORT = {
    "analysis": i18n.N_("Analysis"),
    "fact_accuracy": i18n.N_("Facts"),
    "concision": i18n.N_("Conc."),
    "interest_style": i18n.N_("Style"),
    "topic_knowledge": i18n.N_("Topic"),
}

LANG_CHOSEN = "byline_lang_chosen"
ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class TranslatedLabels(Mapping[str, str]):
    """Names kept in English in the code, each translated into the request's language when looked up."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self._labels = dict(labels)

    def __getitem__(self, key: str) -> str:
        return i18n.gettext(self._labels[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


def _fmt_duration(value: timedelta) -> str:
    """A span of time as a person says it at a glance: 40 min, 5 h, 3 days."""
    minutes = max(int(value.total_seconds() // 60), 0)
    if minutes < 60:
        return i18n.gettext("%(num)s min", num=minutes)
    if minutes < 48 * 60:
        return i18n.gettext("%(num)s h", num=minutes // 60)
    return i18n.ngettext("%(num)s day", "%(num)s days", minutes // (24 * 60))


def language_url(request: Request[Any, Any, Any], locale: str) -> str:
    """The current page in `locale`: its path and query with `?lang=` set, for the language switch."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != i18n.LANG_PARAM]
    params.append((i18n.LANG_PARAM, locale))
    return f"{request.url.path}?{urlencode(params)}"


# The paths of routes without parameters, kept in the app's state: a page links to the same dozen each time.
PLAIN_ROUTES = "byline_plain_routes"


@lru_cache(maxsize=8192)
def _translated(catalog: Any, message: str, autoescape: bool) -> str:
    """A message from a catalog (a new catalog, compiled again, has translations of its own)."""
    text = catalog.gettext(message)
    return Markup(text) if autoescape else text  # noqa: S704 - a translation is trusted, as Jinja's gettext has it


@pass_context
def _template_gettext(context: Any, message: str, /, **variables: Any) -> str:
    """Jinja's new-style `_()` and `gettext()`, with each message's translation looked up once per language.

    As Jinja's own: the translation is trusted markup under autoescaping, the variables are escaped into it,
    and the text is always a format string (`%%` is a percent sign).
    """
    text = _translated(i18n.translations(i18n.current_locale()), message, context.eval_ctx.autoescape)
    return text % variables if variables or "%" in text else text


@pass_context
def _url_for(context: Mapping[str, Any], route_name: Any, /, **path_parameters: Any) -> str:
    """Litestar's `url_for` for templates, with the paths of routes that take no parameters kept."""
    app = context["request"].app
    if path_parameters:
        return str(app.route_reverse(route_name, **path_parameters))
    known: dict[Any, str] = app.state.setdefault(PLAIN_ROUTES, {})
    if route_name not in known:
        known[route_name] = app.route_reverse(route_name)
    return known[route_name]


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja with autoescaping everywhere (also for .txt mail parts, which re-escape nothing)."""

    def configure(engine: JinjaTemplateEngine) -> None:
        env: Environment = engine.engine
        env.autoescape = True
        # Outside development the templates are those of the release: no look at their files per render.
        env.auto_reload = settings.is_dev
        # One environment serves every request: the callables read the request's language from a ContextVar.
        env.add_extension("jinja2.ext.i18n")
        env.newstyle_gettext = True  # type: ignore[attr-defined]
        env.install_gettext_callables(  # type: ignore[attr-defined]
            i18n.raw_gettext, i18n.raw_ngettext, newstyle=True, pgettext=i18n.raw_pgettext
        )
        env.trim_blocks = True
        env.lstrip_blocks = True
        env.globals["url_for"] = _url_for
        env.globals["gettext"] = _template_gettext
        env.filters.update(
            datetime=i18n.format_datetime,
            date=i18n.format_date,
            format_datetime=i18n.format_datetime,
            format_date=i18n.format_date,
            format_number=i18n.format_number,
            filesize=i18n.format_size,
            mark=i18n.format_mark,
            duration=_fmt_duration,
            name_in_locale=site.name_in_locale,
            lang_attr=site.lang_attr,
            fallback_note=site.fallback_note_html,
        )
        env.globals.update(
            staff_labels=TranslatedLabels({state.value: label for state, label in STAFF_LABELS.items()}),
            criterion_names=TranslatedLabels(CRITERION_NAMES),
            criterion_short=TranslatedLabels(CRITERION_SHORT),
            task_due_days=settings.task_due_days,
            publication_name=settings.publication_name,
            mail_catcher=settings.mail_catcher,
            max_samples=settings.max_samples,
            max_file_mb=settings.max_file_bytes // (1024 * 1024),
            max_application_mb=settings.max_application_bytes // (1024 * 1024),
            current_locale=i18n.current_locale,
            supported_locales=i18n.SUPPORTED_LOCALES,
            language_names=i18n.LANGUAGE_NAMES,
            language_url=language_url,
        )

    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure)


def security_headers(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    """A before-send hook adding CSP, nosniff, referrer and caching headers to every response.

    A hook rather than middleware: it also reaches responses Litestar makes before routing (404, 405).
    """
    hsts = settings.base_url.startswith("https://")

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        if "Content-Security-Policy" not in headers:  # a handler may only set a stricter one (mail catcher)
            headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        # Status links carry a secret id: never leak it to another site.
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not scope.get("path", "").startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        if hsts:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    return add_headers


def choose_language(scope: Scope, settings: Settings) -> tuple[str, str | None, str | None]:
    """The request's language, time zone and a language to remember in the cookie (when `?lang=` chose one).

    In order: `?lang=`, a logged-in staff member's saved choice, the cookie, Accept-Language, the default.
    """
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    explicit = i18n.supported((query.get(i18n.LANG_PARAM) or [""])[0])
    user = scope.get("user")
    saved = i18n.supported(getattr(user, "locale", None))
    zone = i18n.valid_time_zone(getattr(user, "time_zone", None))
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", [])}
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except CookieError:
        pass
    morsel = cookie.get(i18n.LANG_COOKIE)
    remembered = i18n.supported(morsel.value if morsel else None)
    browser = i18n.negotiate(headers.get("accept-language", ""))
    locale = explicit or saved or remembered or browser or settings.default_locale
    return locale, zone, explicit


def language(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware serving each request in its own language (a ContextVar, reset when it ends)."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def with_language(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            locale, zone, explicit = choose_language(scope, settings)
            if explicit:
                scope.setdefault("state", {})[LANG_CHOSEN] = explicit
            tokens = i18n.set_request_locale(locale, zone)
            try:
                await app(scope, receive, send)
            finally:
                i18n.reset_request_locale(tokens)

        return with_language

    return middleware


def ensure_language(scope: Scope, settings: Settings) -> None:
    """Choose the language of a request no route answered (a 404 before routing), for its error page."""
    if i18n.request_locale_set():
        return
    locale, zone, explicit = choose_language(scope, settings)
    if explicit:
        scope.setdefault("state", {})[LANG_CHOSEN] = explicit
    i18n.set_request_locale(locale, zone)


def language_headers(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    """A before-send hook: Content-Language and Vary on pages, and the cookie that keeps a `?lang=` choice."""
    secure = not settings.is_dev

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        if not headers.get("content-type", "").startswith("text/html"):
            return
        headers["Content-Language"] = i18n.current_locale()
        vary = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
        for name in ("Accept-Language", "Cookie"):
            if name.lower() not in (v.lower() for v in vary):
                vary.append(name)
        headers["Vary"] = ", ".join(vary)
        chosen = scope.get("state", {}).get(LANG_CHOSEN)
        if chosen:
            cookie = f"{i18n.LANG_COOKIE}={chosen}; Path=/; Max-Age=31536000; SameSite=Lax"
            headers.add("Set-Cookie", cookie + ("; Secure" if secure else ""))

    return add_headers


async def htmx_history(message: Message, scope: Scope) -> None:
    """Keep the address bar on the page when htmx swaps in a form's answer (a 422 page, say) to a POST.

    A boosted form otherwise pushes the POST's address into the history, which a reload could not GET.
    """
    if message["type"] != "http.response.start" or scope.get("method", "GET") == "GET":
        return
    if any(name == b"hx-request" for name, _ in scope.get("headers", [])):
        MutableScopeHeaders.from_message(message)["HX-Push-Url"] = "false"


def redirect_to(
    request: Request[Any, Any, Any],
    route: str,
    /,
    query: links.Query = None,
    *,
    fragment: str = "",
    cookies: list[Cookie] | None = None,
    **params: Any,
) -> Redirect:
    """A 303 to the route named `route` (path parameters in `params`), with `query` and `fragment` if any."""
    target = links.with_query(request.app.route_reverse(route, **params), query)
    return Redirect(f"{target}#{fragment}" if fragment else target, status_code=303, cookies=cookies)


def client_ip(request: Request[Any, Any, Any], settings: Settings) -> str:
    """The peer address, or the nearest untrusted X-Forwarded-For hop when the peer is a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if peer not in settings.trusted_proxies:
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in settings.trusted_proxies:
            return hop
    return peer


class Signer:
    """Signed, time-stamped tokens (the form's render time) keyed by the app secret."""

    def __init__(self, settings: Settings, salt: str) -> None:
        self._serializer = URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=salt)

    def dumps(self, value: Any) -> str:
        return self._serializer.dumps(value)

    def loads(self, token: str, *, max_age: int) -> tuple[Any, datetime]:
        """The value and its signing time; raises TokenExpired or TokenInvalid."""
        try:
            value, signed_at = self._serializer.loads(token, max_age=max_age, return_timestamp=True)
        except SignatureExpired:
            raise TokenExpired from None
        except BadSignature:
            raise TokenInvalid from None
        return value, signed_at


class TokenInvalid(Exception):
    """A token that was not made by this app."""


class TokenExpired(Exception):
    """A genuine token older than its allowed age."""


class Clock:
    """The current UTC time; tests freeze or advance it instead of sleeping."""

    def __init__(self) -> None:
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen if self.frozen is not None else datetime.now(UTC)

    def freeze(self, at: datetime) -> None:
        self.frozen = at

    def advance(self, delta: timedelta) -> None:
        self.frozen = self() + delta


# Handler parameter types for the app-wide dependencies (injected by name).
DbSession = NamedDependency[AsyncSession]
AppSettings = NamedDependency[Settings]
AppClock = NamedDependency[Clock]
