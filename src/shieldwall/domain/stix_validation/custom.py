"""Custom object types (STIX 2.1 §11.2): which common rules apply to a type the spec does not
define.

Such a type is accepted only when it declares itself through an ``extension-definition--``
extension whose ``extension_type`` is ``new-sdo``, ``new-sco`` or ``new-sro`` (§7.3); it is
then held to the common properties of that kind only.
"""

from __future__ import annotations

from typing import Final

from shieldwall.domain.stix_validation.common import _CORE, _SCO, _rules, _TypeRules
from shieldwall.domain.stix_validation.messages import _fail
from shieldwall.domain.stix_validation.vocabulary import _NEW_OBJECT_EXTENSION_TYPES

# Custom objects (§11.2 via §7.3): common properties only, by the kind they declare.
_CUSTOM_CORE: Final = _rules(_CORE, {})
_CUSTOM_SCO: Final = _rules(_SCO, {})


def _custom_rules(obj: dict[str, object], type_name: str, oid: str) -> _TypeRules:
    """Rules for a type the spec does not define, from its new-sdo/sco/sro extension."""
    extensions = obj.get("extensions")
    if isinstance(extensions, dict):
        for key, extension in extensions.items():
            if (
                isinstance(key, str)
                and key.startswith("extension-definition--")
                and isinstance(extension, dict)
                and extension.get("extension_type") in _NEW_OBJECT_EXTENSION_TYPES
            ):
                return _CUSTOM_SCO if extension["extension_type"] == "new-sco" else _CUSTOM_CORE
    _fail(
        f"{type_name!r} is not a STIX 2.1 type; a custom object type must declare itself "
        "with an extensions entry keyed by its extension-definition id and an "
        "extension_type of new-sdo, new-sco or new-sro (STIX 2.1 §7.3)",
        oid,
    )
