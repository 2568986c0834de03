"""Domain errors and the one place that turns any error into an HTML page or a JSON body."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException, ValidationException
from litestar.response import Template

from app.core.i18n import N_
from app.core.i18n import gettext as _
from app.core.web import ensure_language, redirect_to

log = logging.getLogger("byline.errors")


class DomainError(Exception):
    """An error a user can act on; `message` is shown to them as it is."""

    status_code = 400
    title = N_("Something is not right")
    # A page of its own for this error, given `extra` as context; the plain error page otherwise.
    template: str | None = None

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class NotFound(DomainError):
    status_code = 404
    title = N_("Not found")


class Forbidden(DomainError):
    status_code = 403
    title = N_("Not allowed")


class Conflict(DomainError):
    status_code = 409
    title = N_("Someone else changed this first")


class Invalid(DomainError):
    """Input that failed validation; `errors` maps field names to messages."""

    status_code = 422
    title = N_("Please check the form")

    def __init__(
        self, message: str, errors: dict[str, str] | None = None, *, status_code: int = 422, **extra: Any
    ) -> None:
        super().__init__(message, **extra)
        self.errors = errors or {}
        self.status_code = status_code


class TooLarge(DomainError):
    status_code = 413
    title = N_("Too large")


class RateLimited(DomainError):
    status_code = 429
    title = N_("Too many requests")

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RoleRequired(PermissionDeniedException):
    """A staff member without the role a page needs (shown with its own message)."""


class PasswordChangeRequired(PermissionDeniedException):
    """A person who logged in with a one-time password chooses their own before anything else."""


_HTTP_MESSAGES = {
    400: N_("The request could not be understood."),
    401: N_("Please log in to continue."),
    403: N_("This request was refused. If you were filling in a form, reload the page and try again."),
    404: N_("There is nothing at this address. Check the link you followed."),
    405: N_("This address does not accept that kind of request."),
    413: N_("What you sent is larger than this site accepts."),
    429: N_("Too many requests in a short time. Please wait a while and try again."),
}
# The pages' headings for Litestar's own errors, in words a reader knows.
_HTTP_TITLES = {
    400: N_("Bad request"),
    401: N_("Please log in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Someone else changed this first"),
    413: N_("Too large"),
    422: N_("Please check the form"),
    429: N_("Too many requests"),
}
SERVER_ERROR = N_("Something went wrong on our side. Please try again in a moment.")


PROBLEM_JSON = "application/problem+json"


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def _render(
    request: Request[Any, Any, Any],
    status: int,
    title: str,
    message: str,
    headers: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response[Any]:
    if _wants_json(request):
        # RFC 9457 problem details; `errors` names the fields at fault, as the forms show them.
        body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": message}
        if errors:
            body["errors"] = errors
        if status == 401:
            headers = {**headers, "WWW-Authenticate": 'Bearer realm="byline"'}
        return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    ensure_language(request.scope, request.app.state.settings)
    title, message = _(title), _(message) if message else message
    return Template(
        template_name="error.html",
        context={"status": status, "title": title, "message": message},
        status_code=status,
        headers=headers,
    )


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """Render a DomainError with its own status and message."""
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.template and not _wants_json(request):
        ensure_language(request.scope, request.app.state.settings)
        return Template(
            template_name=exc.template,
            context={"status": exc.status_code, "title": _(exc.title), "message": exc.message, **exc.extra},
            status_code=exc.status_code,
            headers=headers,
        )
    errors = exc.errors if isinstance(exc, Invalid) else None
    return _render(request, exc.status_code, exc.title, exc.message, headers, errors)


def _validation_errors(exc: ValidationException) -> dict[str, str]:
    """Litestar's list of failed parameters and body fields as field name → message."""
    found: dict[str, str] = {}
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            found[str(item.get("key") or item.get("source") or "body")] = str(item.get("message", "Invalid."))
    return found


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Render Litestar's own errors (unknown route, CSRF, body limit) as a readable page.

    An anonymous visit to a staff page goes to the login form, which brings the person back afterwards.
    """
    status = exc.status_code
    if status == 401 and request.method == "GET" and not _wants_json(request):
        return redirect_to(request, "login", {"next": request.url.path})
    if isinstance(exc, PasswordChangeRequired) and request.method == "GET" and not _wants_json(request):
        return redirect_to(request, "account_password")
    if isinstance(exc, ValidationException) and _wants_json(request):
        # The API's input that does not fit its schema: the same 422 as a service's Invalid.
        errors = _validation_errors(exc)
        message = "The request does not match the API's schema."
        return _render(request, 422, Invalid.title, message, {}, errors)
    title = _HTTP_TITLES.get(status) or (
        HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    )
    message = _HTTP_MESSAGES.get(status, exc.detail if status < 500 else "")
    if isinstance(exc, RoleRequired | PasswordChangeRequired):
        message = exc.detail
    if status == 401 and _wants_json(request):
        message = "Send a valid API token: Authorization: Bearer <token> (made on /account/tokens)."
    if status >= 500:
        message = SERVER_ERROR
    return _render(request, status, title, message, dict(exc.headers or {}))


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Log an unexpected error without request data and answer a plain 500 page."""
    log.exception("unhandled error on %s %s", request.method, request.scope.get("route_handler", None))
    return _render(request, 500, N_("Server error"), SERVER_ERROR, {})


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    500: internal_error_handler,
}
