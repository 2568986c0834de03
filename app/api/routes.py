"""The JSON API under /api/v1: the token's owner, the workflow table, and the router the features' API
routes join (app/review/api.py, app/factcheck/api.py, app/mail/api.py; the composition root passes them in).

Every route needs a bearer token (app/api/auth.py) and the same role as its page: editors for applications,
editors and fact-checkers for tasks (a fact-checker sees only their own: anyone else's is a 404), editors and
admins for the outbox. Ids and bodies are read strictly first (app/api/strict.py). Errors are problem details
(app/core/errors.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Router, get
from litestar.types import ControllerRouterHandler

from app.accounts.guards import CurrentStaff
from app.api import schemas
from app.api.auth import api_staff
from app.api.openapi import problems
from app.api.strict import check_request
from app.core import workflow


@get("/me", name="api_me", responses=problems(), summary="The token's owner and their roles")
async def me(staff: CurrentStaff) -> schemas.Me:
    return schemas.Me(id=staff.id, name=staff.name, email=staff.email, roles=staff.roles)  # type: ignore[arg-type]


@get("/workflow", name="api_workflow", responses=problems(), summary="The workflow table: every allowed move")
async def workflow_table() -> list[schemas.WorkflowMove]:
    """The one table of moves the application page, the API and the checks all follow."""
    return [
        schemas.WorkflowMove(
            source=move.source,
            target=move.target,
            label=move.label,
            actor=move.actor.value,
            role=move.role,
            message_required=move.message_required,
            reason_required=move.reason_required,
        )
        for move in workflow.MOVES
    ]


def create_router(feature_routes: Sequence[ControllerRouterHandler] = ()) -> Router:
    """The API's routes under /api/v1, all behind a bearer token; the only routes in the OpenAPI document."""
    return Router(
        path="/api/v1",
        route_handlers=[me, workflow_table, *feature_routes],
        guards=[api_staff],
        before_request=check_request,
        include_in_schema=True,
        security=[{"bearer": []}],
        tags=["Byline API"],
    )
