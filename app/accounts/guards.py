"""Route guards: staff only, and staff with a role (docs/security.md C2)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from app.core.errors import PasswordChangeRequired, RoleRequired
from app.core.i18n import N_
from app.core.staff import StaffUser

# Handlers behind a guard take `staff: CurrentStaff`.
CurrentStaff = NamedDependency[StaffUser]


# The routes a person who must replace a one-time password may still use.
PASSWORD_CHANGE_ROUTES = frozenset({"account_password", "account_password_change", "logout"})


def current_staff(connection: ASGIConnection[Any, Any, Any, Any]) -> StaffUser:
    """The logged-in staff member (guards have already refused anonymous requests)."""
    user = connection.scope.get("user")
    if not isinstance(user, StaffUser):
        raise NotAuthorizedException(N_("Please log in."))
    handler = connection.scope.get("route_handler")
    if user.must_change_password and getattr(handler, "name", None) not in PASSWORD_CHANGE_ROUTES:
        raise PasswordChangeRequired(N_("Choose your own password first: you logged in with a one-time one."))
    return user


def provide_staff(request: Request[Any, Any, Any]) -> StaffUser:
    """Dependency provider for `staff`."""
    return current_staff(request)


# The guards are coroutines: Litestar runs a plain function guard in a worker thread, a trip per request.
async def staff_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    current_staff(connection)


def role_required(*roles: str) -> Guard:
    """A guard passing staff who hold any of `roles`."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_staff(connection)
        if not any(user.has_role(role) for role in roles):
            raise RoleRequired(N_("Your role does not give access to this page."))

    return guard


admin_only = role_required("admin")
editors_only = role_required("editor")
checkers_and_editors = role_required("fact_checker", "editor")
# Trial fees: finance people and admins move them through invoiced, approved and paid.
finance_or_admin = role_required("finance", "admin")
