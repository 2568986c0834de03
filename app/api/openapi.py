"""The API's OpenAPI document (/api/v1/openapi.json) and a plain reference page built from it (/api/v1/docs).

Only the /api/v1 routes are in the document: the app leaves every other route out (`include_in_schema`).
Litestar documents a 400 for any handler with input; the API answers 422 for input that does not fit and 400
only for a body that is not JSON (see app/errors.py), so the document is tidied before it is served.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from litestar import Request
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from app.api.schemas import Problem
from app.errors import PROBLEM_JSON

PATH = "/api/v1"

ERROR_DESCRIPTIONS = {
    400: "The body is not JSON.",
    401: "No valid bearer token.",
    403: "The token's owner lacks the role this needs (or must first replace a one-time password).",
    404: "No such application or task (or not one of a fact-checker's own tasks).",
    409: "The application or task changed first, or the move is not open from its state.",
    422: "The input does not fit: `errors` names the fields.",
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


def tidy(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop the generic 400 answers Litestar adds where the API gives none: routes without a body."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" not in operation:
                operation.get("responses", {}).pop("400", None)
    return schema


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
        super().__init__(path="/docs")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        schema = tidy(openapi_schema)
        context = {
            "info": schema.get("info", {}),
            "openapi_version": schema.get("openapi", ""),
            "operations": list(_operations(schema)),
            "schemas": schema.get("components", {}).get("schemas", {}),
            "json_path": f"{PATH}/openapi.json",
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
        render_plugins=[ReferencePage(), SchemaJson()],
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
