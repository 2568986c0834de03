"""The signed-in staff member as every feature sees them: who they are, their roles and their language."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StaffUser:
    """The logged-in staff member as the request sees them."""

    id: int
    email: str
    name: str
    is_admin: bool
    is_editor: bool
    is_fact_checker: bool
    session_id: str
    must_change_password: bool = False
    locale: str | None = None
    time_zone: str | None = None
    # Moves trial fees through invoiced, approved and paid.
    is_finance: bool = False

    @property
    def roles(self) -> list[str]:
        flags = (
            ("admin", self.is_admin),
            ("editor", self.is_editor),
            ("fact_checker", self.is_fact_checker),
            ("finance", self.is_finance),
        )
        return [name for name, on in flags if on]

    def has_role(self, role: str) -> bool:
        return role in self.roles
