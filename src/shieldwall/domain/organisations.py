"""Organisations, their sectors, countries and roles (architecture.md §3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from shieldwall.domain.errors import InvalidInput


class Sector(StrEnum):
    """The sectors an organisation can belong to."""

    FINANCIAL = "financial"
    LEGAL = "legal"
    GOVERNMENT = "government"
    INSURANCE = "insurance"
    TECHNOLOGY = "technology"
    OTHER = "other"

    @classmethod
    def parse(cls, text: str) -> Sector:
        """Parse a sector name, case-insensitively; raise ``InvalidInput`` listing the choices."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise InvalidInput(f"unknown sector {text!r}: choose one of {choices}") from None


class Role(StrEnum):
    """What an organisation may do in the hub."""

    MEMBER = "member"
    GOVERNMENT = "government"
    OPERATOR = "operator"

    @classmethod
    def parse(cls, text: str) -> Role:
        """Parse a role name, case-insensitively; raise ``InvalidInput`` listing the choices."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(r.value for r in cls)
            raise InvalidInput(f"unknown role {text!r}: choose one of {choices}") from None


# ISO 3166-1 alpha-2 officially assigned codes.
ISO_COUNTRIES = frozenset(
    [
        "AD",
        "AE",
        "AF",
        "AG",
        "AI",
        "AL",
        "AM",
        "AO",
        "AQ",
        "AR",
        "AS",
        "AT",
        "AU",
        "AW",
        "AX",
        "AZ",
        "BA",
        "BB",
        "BD",
        "BE",
        "BF",
        "BG",
        "BH",
        "BI",
        "BJ",
        "BL",
        "BM",
        "BN",
        "BO",
        "BQ",
        "BR",
        "BS",
        "BT",
        "BV",
        "BW",
        "BY",
        "BZ",
        "CA",
        "CC",
        "CD",
        "CF",
        "CG",
        "CH",
        "CI",
        "CK",
        "CL",
        "CM",
        "CN",
        "CO",
        "CR",
        "CU",
        "CV",
        "CW",
        "CX",
        "CY",
        "CZ",
        "DE",
        "DJ",
        "DK",
        "DM",
        "DO",
        "DZ",
        "EC",
        "EE",
        "EG",
        "EH",
        "ER",
        "ES",
        "ET",
        "FI",
        "FJ",
        "FK",
        "FM",
        "FO",
        "FR",
        "GA",
        "GB",
        "GD",
        "GE",
        "GF",
        "GG",
        "GH",
        "GI",
        "GL",
        "GM",
        "GN",
        "GP",
        "GQ",
        "GR",
        "GS",
        "GT",
        "GU",
        "GW",
        "GY",
        "HK",
        "HM",
        "HN",
        "HR",
        "HT",
        "HU",
        "ID",
        "IE",
        "IL",
        "IM",
        "IN",
        "IO",
        "IQ",
        "IR",
        "IS",
        "IT",
        "JE",
        "JM",
        "JO",
        "JP",
        "KE",
        "KG",
        "KH",
        "KI",
        "KM",
        "KN",
        "KP",
        "KR",
        "KW",
        "KY",
        "KZ",
        "LA",
        "LB",
        "LC",
        "LI",
        "LK",
        "LR",
        "LS",
        "LT",
        "LU",
        "LV",
        "LY",
        "MA",
        "MC",
        "MD",
        "ME",
        "MF",
        "MG",
        "MH",
        "MK",
        "ML",
        "MM",
        "MN",
        "MO",
        "MP",
        "MQ",
        "MR",
        "MS",
        "MT",
        "MU",
        "MV",
        "MW",
        "MX",
        "MY",
        "MZ",
        "NA",
        "NC",
        "NE",
        "NF",
        "NG",
        "NI",
        "NL",
        "NO",
        "NP",
        "NR",
        "NU",
        "NZ",
        "OM",
        "PA",
        "PE",
        "PF",
        "PG",
        "PH",
        "PK",
        "PL",
        "PM",
        "PN",
        "PR",
        "PS",
        "PT",
        "PW",
        "PY",
        "QA",
        "RE",
        "RO",
        "RS",
        "RU",
        "RW",
        "SA",
        "SB",
        "SC",
        "SD",
        "SE",
        "SG",
        "SH",
        "SI",
        "SJ",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SR",
        "SS",
        "ST",
        "SV",
        "SX",
        "SY",
        "SZ",
        "TC",
        "TD",
        "TF",
        "TG",
        "TH",
        "TJ",
        "TK",
        "TL",
        "TM",
        "TN",
        "TO",
        "TR",
        "TT",
        "TV",
        "TW",
        "TZ",
        "UA",
        "UG",
        "UM",
        "US",
        "UY",
        "UZ",
        "VA",
        "VC",
        "VE",
        "VG",
        "VI",
        "VN",
        "VU",
        "WF",
        "WS",
        "YE",
        "YT",
        "ZA",
        "ZM",
        "ZW",
    ]
)

_GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def parse_country(text: str) -> str:
    """Normalise an ISO 3166-1 alpha-2 code (``gb`` → ``GB``); raise ``InvalidInput`` if unknown."""
    code = text.strip().upper()
    if code not in ISO_COUNTRIES:
        raise InvalidInput(f"{text!r} is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE)")
    return code


def parse_group_name(text: str) -> str:
    """Validate a sharing-group name: 1-63 of a-z, 0-9, ``.``, ``_``, ``-``."""
    name = text.strip()
    if not _GROUP_NAME.match(name):
        raise InvalidInput(
            f"group name {text!r} must be 1-63 characters of a-z, 0-9, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return name


@dataclass(frozen=True, slots=True)
class Organisation:
    """An organisation admitted to the hub.

    ``identity_id`` is the STIX ``identity`` id the hub gives it; scopes name organisations
    by this id. ``groups`` are the names of the sharing groups it belongs to.
    """

    id: int
    name: str
    identity_id: str
    sector: Sector
    country: str
    role: Role
    groups: frozenset[str] = frozenset()
