"""The API's OpenAPI document (/api/v1/openapi.json) and a plain reference page built from it (/api/v1/docs).

Only the /api/v1 routes are in the document: the app leaves every other route out (`include_in_schema`).
The document is tidied before it is served: Litestar documents a 400 for any handler with input, where the API
answers 400 only for a body that is not JSON; its schemas of the bodies and answers are replaced by msgspec's
own (the decoder that reads them: `additionalProperties: false`, every length and pattern) with the rules
between fields (app/api/schemas.py RULES), so that the document allows exactly what the server accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from app.api import schemas
from app.api.schemas import Problem
from app.core.errors import PROBLEM_JSON

PATH = "/api/v1"
# Litestar's OpenAPI plugin serves the reference page and the document under no route name to reverse: the
# pages that link to them use these paths, declared once here.
REFERENCE = "/docs"
DOCUMENT = "/openapi.json"
DOCS_PATH = PATH + REFERENCE
DOCUMENT_PATH = PATH + DOCUMENT

ERROR_DESCRIPTIONS = {
    400: "The body is not JSON (one value, in UTF-8).",
    401: "No valid bearer token.",
    403: "The token's owner lacks the role this needs (or must first replace a one-time password).",
    404: "No such application or task (or not one of a fact-checker's own tasks), or an id not written as a "
    "plain number.",
    409: "The request matches this document but cannot be done as things stand: the application or task "
    "changed first, the move is not open from its state, or a rule of the desk refuses it (`errors` names "
    "the fields).",
    415: "The body is not sent as JSON: use Content-Type: application/json.",
    422: "The input does not match this document: `errors` names the fields.",
    429: "Too many requests with this token; `Retry-After` says when to try again.",
}


def problems(*codes: int) -> dict[int, ResponseSpec]:
    """The documented error answers of a route (401, 403, 422 and 429 on every route: all check the token)."""
    wanted = sorted({401, 403, 422, 429, *codes})
    return {
        code: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=ERROR_DESCRIPTIONS[code],
            generate_examples=False,
        )
        for code in wanted
    }


@cache
def _struct_schemas() -> dict[str, Any]:
    """msgspec's JSON Schema of every struct in app/api/schemas.py (and the enums they use), by name."""
    structs = [
        value
        for value in vars(schemas).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__module__ == schemas.__name__
    ]
    _, components = msgspec.json.schema_components(structs, ref_template=schemas.REF)
    for name, rules in schemas.RULES.items():
        components[name]["allOf"] = rules
    found: dict[str, Any] = _end_of_input(components)
    return found


def _end_of_input(node: Any) -> Any:
    """Every pattern with JSON Schema's end of input (`$`) where the server's Python regex has `\\Z`."""
    if isinstance(node, dict):
        return {
            key: value[:-2] + "$"
            if key == "pattern" and isinstance(value, str) and value.endswith("\\Z")
            else _end_of_input(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_end_of_input(item) for item in node]
    return node


def tidy(schema: dict[str, Any]) -> dict[str, Any]:
    """The document as the server reads requests (see the module's docstring)."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" not in operation:
                # Litestar's generic 400: the API gives none where there is no body.
                operation.get("responses", {}).pop("400", None)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(_struct_schemas())
    return _end_of_input(schema)  # type: ignore[no-any-return]


class SchemaJson(JsonRenderPlugin):
    """The JSON document, tidied."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, tidy(openapi_schema))


def _operations(schema: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            yield {
                "method": method.upper(),
                "path": path,
                "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "parameters": operation.get("parameters", []),
                "body": _ref_name(body.get("schema", {})),
                "responses": [
                    (code, response.get("description") or HTTPStatus(int(code)).phrase)
                    for code, response in sorted(operation.get("responses", {}).items())
                ],
            }


def _ref_name(schema: dict[str, Any]) -> str:
    return str(schema.get("$ref", "")).rpartition("/")[2]


class ReferencePage(OpenAPIRenderPlugin):
    """A page listing every operation, rendered on the server (the CSP allows no outside script)."""

    def __init__(self) -> None:
        super().__init__(path=REFERENCE)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        schema = tidy(openapi_schema)
        context = {
            "info": schema.get("info", {}),
            "openapi_version": schema.get("openapi", ""),
            "operations": list(_operations(schema)),
            "schemas": schema.get("components", {}).get("schemas", {}),
            "json_path": DOCUMENT_PATH,
            "request": request,
        }
        engine = request.app.template_engine
        assert engine is not None
        return str(engine.get_template("api/docs.html").render(**context)).encode()


def openapi_config() -> OpenAPIConfig:
    """The document's description, served at /api/v1/openapi.json with the reference page at /api/v1/docs."""
    return OpenAPIConfig(
        title="Byline API",
        version="1",
        description=(
            "The contributor desk's JSON API. Every route takes a personal API token "
            "(`Authorization: Bearer <token>`, made on /account/tokens) and acts with its owner's roles."
        ),
        path=PATH,
        render_plugins=[ReferencePage(), SchemaJson(path=DOCUMENT)],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http", scheme="bearer", description="A personal API token, made on /account/tokens."
                )
            }
        ),
        use_handler_docstrings=True,
        create_examples=False,
    )
