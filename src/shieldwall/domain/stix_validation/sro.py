"""Rules for the STIX Relationship Objects (STIX 2.1 §5): relationship and sighting.

Their references may name any object one can relate, sight or observe, that is neither an
SRO nor a meta object (§7) nor a bundle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from shieldwall.domain.stix_validation.checks import (
    _boolean,
    _integer,
    _matching,
    _ref,
    _ref_list,
    _string,
    _timestamp,
)
from shieldwall.domain.stix_validation.common import _CORE, _SEEN, _rules, _TypeRules
from shieldwall.domain.stix_validation.vocabulary import _NOT_RELATABLE

_RELATIONSHIP_TYPE: Final = re.compile(r"[a-z0-9-]+")

_SRO_RULES: Final[Mapping[str, _TypeRules]] = {
    "relationship": _rules(
        _CORE,
        {
            "relationship_type": _matching(_RELATIONSHIP_TYPE, "made of a–z, 0–9 and '-'"),
            "description": _string,
            "source_ref": _ref(forbidden=_NOT_RELATABLE),
            "target_ref": _ref(forbidden=_NOT_RELATABLE),
            "start_time": _timestamp,
            "stop_time": _timestamp,
        },
        ("relationship_type", "source_ref", "target_ref"),
        (("stop_time", "start_time", True),),
    ),
    "sighting": _rules(
        _CORE,
        {
            "description": _string,
            "first_seen": _timestamp,
            "last_seen": _timestamp,
            "count": _integer(0, 999_999_999),
            "sighting_of_ref": _ref(forbidden=_NOT_RELATABLE),
            "observed_data_refs": _ref_list("observed-data"),
            "where_sighted_refs": _ref_list("identity", "location"),
            "summary": _boolean,
        },
        ("sighting_of_ref",),
        _SEEN,
    ),
}
