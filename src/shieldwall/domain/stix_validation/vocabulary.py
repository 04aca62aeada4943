"""Names STIX 2.1 defines: the spec version, the object types of §4 (SDOs), §5 (SROs),
§6 (SCOs) and §7 (meta objects), the reserved property names of §3.2, and the extension types
of §7.3.
"""

from __future__ import annotations

from typing import Final

SPEC_VERSION: Final = "2.1"
_RESERVED_PROPERTIES: Final = frozenset({"severity", "action", "username", "phone_numbers"})
_EXTENSION_TYPES: Final = frozenset(
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}
)
_NEW_OBJECT_EXTENSION_TYPES: Final = frozenset({"new-sdo", "new-sco", "new-sro"})

SDO_TYPES: Final = frozenset(
    {
        "attack-pattern",
        "campaign",
        "course-of-action",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "location",
        "malware",
        "malware-analysis",
        "note",
        "observed-data",
        "opinion",
        "report",
        "threat-actor",
        "tool",
        "vulnerability",
    }
)
SRO_TYPES: Final = frozenset({"relationship", "sighting"})
SCO_TYPES: Final = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)
META_TYPES: Final = frozenset({"marking-definition", "language-content", "extension-definition"})
# Objects that are not things one can relate, sight or observe.
_NOT_RELATABLE: Final = SRO_TYPES | META_TYPES | {"bundle"}
