"""The ``scope`` field of REST requests, parsed once for every route that takes one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shieldwall.domain.scope import Scope, make_scope


class ScopeFields(BaseModel):
    """Who besides TLP may read: each list optional; all empty means the whole community.

    Unknown fields and values that are not lists of strings are refused (400)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    sectors: list[str] = Field(default_factory=list, max_length=10)
    countries: list[str] = Field(default_factory=list, max_length=250)
    groups: list[str] = Field(default_factory=list, max_length=100)
    organizations: list[str] = Field(default_factory=list, max_length=1000)

    def to_scope(self) -> Scope:
        """The domain value (each entry validated: sector names, ISO codes, ids)."""
        return make_scope(self.sectors, self.countries, self.groups, self.organizations)


def parse_scope(raw: object) -> Scope:
    """A scope from a JSON request body (pydantic's ``ValidationError`` answers 400)."""
    return ScopeFields.model_validate(raw).to_scope()
