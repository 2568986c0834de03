"""The trial pages: the editors' (offer, brief, scores, fees) and the applicant's (brief and piece)."""

from __future__ import annotations

from litestar import Router

from app.trials import applicant_routes, editor_routes, fee_routes, score_routes


def create_router() -> Router:
    return Router(
        path="/",
        route_handlers=[
            *editor_routes.ROUTES,
            *applicant_routes.ROUTES,
            *score_routes.ROUTES,
            *fee_routes.ROUTES,
        ],
    )
