"""How the API reads a request before its handler runs: canonical ids, JSON bodies only, decoded strictly.

A body is decoded into the route's msgspec struct with `strict=True` (no "2" for 2, no 0 for false, no unknown
field) and the struct's `problems()` (the rules between its fields) are checked, so that whatever the OpenAPI
document refuses is refused here: 415 for a body not sent as JSON, 400 for one that is not JSON, 422 for one
that does not match the document. A service that then refuses a body the document allows (a fact-checker who
is not one, a due time already past) answers 409 through `desk_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import msgspec
from litestar import Request

from app.api.schemas import PATTERN_HINTS
from app.core import i18n
from app.core.errors import DomainError, Invalid, NotFound

T = TypeVar("T")

# application/json and the structured suffix of RFC 6839 (application/<anything>+json), in any letter case.
JSON_MEDIA_TYPE = re.compile(r"application/(?:[a-z0-9][a-z0-9!#$&^_.+-]*\+)?json")
MISMATCH = "The request does not match the API's schema."
# msgspec names a pattern a string missed by its repr().
_HINTS = {repr(pattern): hint for pattern, hint in PATTERN_HINTS.items()}


class UnsupportedMediaType(DomainError):
    status_code = 415
    title = "Unsupported Media Type"


class NotJson(DomainError):
    status_code = 400
    title = "Bad Request"


class Refused(Invalid):
    """A request that matches the document but that the desk's rules refuse as things stand."""

    title = "Not possible as it stands"

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message, errors, status_code=409)


@contextmanager
def desk_rules() -> Iterator[None]:
    """Answer a service's Invalid (422) as a Refused (409): the body already matched the document."""
    try:
        yield
    except Invalid as exc:
        if exc.status_code != 422:
            raise
        raise Refused(exc.message, exc.errors) from exc


async def check_request(request: Request[Any, Any, Any]) -> None:
    """The router's before-request hook: ids as the API writes them, then the body (POST and PUT)."""
    # The JSON API answers in English whatever the caller's language; its messages come from shared services.
    i18n.set_request_locale(i18n.SOURCE_LOCALE, None)
    check_path_ids(request)
    body_field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if body_field is not None:
        check_media_type(request.headers.get("content-type", ""))
        read_json(await request.body(), body_field.annotation)


def check_path_ids(request: Request[Any, Any, Any]) -> None:
    """404 unless the path is the one the API itself writes for its ids (`7`, never `07`, `+7` or `7_0`).

    Litestar's own OPTIONS answers have no route name and read no id.
    """
    if request.path_params and request.route_handler.name:
        canonical = request.app.route_reverse(request.route_handler.name, **request.path_params)
        if canonical != request.scope["path"]:
            raise NotFound("There is nothing at this address. Write ids as plain numbers, such as 42.")


def check_media_type(content_type: str) -> None:
    """415 unless the body is declared as JSON (application/json or a +json type), in UTF-8 if it says."""
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    charsets = [
        value.strip('"') for name, _, value in (p.partition("=") for p in parameters) if name == "charset"
    ]
    if not JSON_MEDIA_TYPE.fullmatch(media_type) or any(charset != "utf-8" for charset in charsets):
        raise UnsupportedMediaType("Send the body as JSON, with the header Content-Type: application/json.")


def _whole_numbers(value: Any) -> Any:
    """`value` with each float that is a whole number (`2.0`) as an int: JSON Schema counts it an integer."""
    root = [value]
    stack: list[list[Any] | dict[str, Any]] = [root]
    while stack:
        node = stack.pop()
        for key, item in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(item, float) and item.is_integer():
                node[key] = int(item)  # type: ignore[index]
            elif isinstance(item, list | dict):
                stack.append(item)
    return root[0]


def read_json(body: bytes, target: type[T]) -> T:
    """The body as `target`, with no coercion ("2" is no 2, 0 no false); 400 if not JSON, 422 if no match."""
    try:
        data = msgspec.convert(_whole_numbers(msgspec.json.decode(body)), type=target, strict=True)
    except msgspec.ValidationError as exc:
        reason, _, where = str(exc).partition(" - at `$")
        reason = _HINTS.get(reason.removeprefix("Expected `str` matching regex "), reason)
        raise Invalid(MISMATCH, {where.rstrip("`").lstrip(".") or "body": reason}) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise NotJson("The body is not valid JSON: send one JSON object, in UTF-8.") from None
    except RecursionError:
        raise NotJson("The body is nested too deeply to be one of this API's objects.") from None
    problems = getattr(data, "problems", None)
    found: dict[str, str] = problems() if problems else {}
    if found:
        raise Invalid(MISMATCH, found)
    return data
