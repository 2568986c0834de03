"""The JSON API's outbox route (/api/v1/outbox), for editors and admins; registered by app/api/routes.py."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from app.accounts.guards import role_required
from app.api import schemas
from app.api.openapi import problems
from app.api.params import QueryId
from app.core.web import DbSession
from app.mail import queries as outbox_queries
from app.models import EmailStatus

# --- the outbox -----------------------------------------------------------------------------------------


@get(
    "/outbox",
    name="api_outbox",
    responses=problems(),
    guards=[role_required("editor", "admin")],
    summary="The outbox",
)
async def outbox(
    session: DbSession,
    status: Annotated[EmailStatus | None, QueryParameter()] = None,
    template: Annotated[
        str,
        QueryParameter(
            max_length=80, pattern=schemas.PLAIN, description="A message kind, e.g. applicant_decision."
        ),
    ] = "",
    recipient: Annotated[
        str,
        QueryParameter(max_length=320, pattern=schemas.PLAIN, description="Part of the recipient's address."),
    ] = "",
    application: QueryId = None,
    before: QueryId = None,
) -> schemas.OutboxList:
    """Messages newest first, 50 a page, as on /outbox (message bodies are not listed)."""
    filters = outbox_queries.OutboxFilters(
        status=status or "",
        template=template,
        recipient=recipient.strip(),
        application_id=application,
        before_id=before,
    )
    rows, next_id = await outbox_queries.list_messages(session, filters)
    return schemas.OutboxList(
        items=[
            schemas.OutboxItem(
                id=row.id,
                created_at=row.created_at,
                recipient=row.recipient,
                template=row.template,
                status=EmailStatus(row.status),
                attempts=row.attempts,
                last_error=row.last_error,
                sent_at=row.sent_at,
                application_id=row.application_id,
                applicant_name=row.name,
            )
            for row in rows
        ],
        next_before=next_id,
        counts=await outbox_queries.status_counts(session),
    )


ROUTES = [outbox]
