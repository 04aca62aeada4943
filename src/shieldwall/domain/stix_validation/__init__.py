"""Fast ingest-time validation of STIX 2.1 objects.

Every object submitted to the TAXII server passes through :func:`validate_object` before it
is stored. The checks follow *STIX Version 2.1* (OASIS Standard, 10 June 2021; section
numbers as there):

- §2 common data types: dictionary, external-reference (a ``source_name`` and one of
  ``description``/``url``/``external_id``; ``cve``/``capec`` ids), hashes, hex, binary,
  identifier (``type--`` + RFC 4122 UUID), kill-chain-phase, list (empty lists are
  prohibited), timestamp (RFC 3339, UTC, ``Z``);
- §3.1 type and property names (a–z, 0–9, ``-`` resp. ``_``, 3–250 characters, starting
  with a letter), §3.2 common properties (``spec_version`` "2.1", ``created``/``modified``
  with at least millisecond precision and ``modified`` >= ``created``, ``created_by_ref``
  to an identity, ``confidence`` 0–100, ``object_marking_refs``, granular markings whose
  selectors resolve, ``extensions``), and the reserved property names;
- §4 required and typed properties of every SDO, with their ordering rules
  (``valid_until`` > ``valid_from``, ``last_seen`` >= ``first_seen`` …) and co-occurrence
  rules (Malware ``name`` for families, Location coordinates, Observed Data
  ``objects``/``object_refs``); an indicator pattern with ``pattern_type`` "stix" must parse
  (§9, via :func:`shieldwall.domain.patterns.parse_pattern`);
- §5 relationship and sighting, including which object types their references may name;
- §6 cyber-observable objects: the required/typed properties of the 18 core SCOs,
  their predefined extensions, UUIDv4 ids where no id-contributing property exists;
- §7.1 language content, §7.2 marking definitions (statement; the four TLP 1.0 objects
  exactly as §7.2.1.4 lists them; extension-based markings such as TLP 2.0), §7.3 extension
  definitions and the ``extensions`` property, and §11 custom content: a type the spec does
  not define is accepted only when it declares itself through an ``extension-definition--``
  extension whose ``extension_type`` is ``new-sdo``, ``new-sco`` or ``new-sro``.

The rules were cross-checked against ``stix2-validator`` 3.3 (its 2.1 JSON schemas and
``musts``), which ``tests/domain/test_stix_validation.py`` runs side by side. Where we
reject what it accepts, the spec requires it (``created_by_ref`` to an identity, marking
refs to marking definitions, custom types only through extensions, ``spec_version`` exactly
"2.1" …) or the server does (a bundle is an envelope, not a storable object). Where we
accept what it rejects, the test module's docstring lists the cases. Timestamps with a
leap second or year 0000 are rejected although RFC 3339 allows them: neither Python's
datetime nor the reference can represent them.

The per-type rules are data (``_RULES``: type → property checkers, required properties,
ordering pairs, one cross-property rule), applied in one pass over the object's properties.
No stix2 objects are built; messages are only formatted on failure.

Modules: ``engine`` (:func:`validate_object`, the single pass, and ``_RULES``), the rule
tables ``sdo`` (§4), ``sro`` (§5), ``sco`` (§6) and ``meta`` (§7) over ``common`` (§3.2 common
properties, the rule record), ``custom`` (§11.2 custom types), the property checkers
``checks`` (primitive types) and ``compound`` (structured types), ``vocabulary`` (type names)
and ``messages``.  Import from this package, not from the modules.
"""

from __future__ import annotations

from shieldwall.domain.stix_validation.engine import ValidObject, validate_object
from shieldwall.domain.stix_validation.vocabulary import META_TYPES as META_TYPES
from shieldwall.domain.stix_validation.vocabulary import SCO_TYPES as SCO_TYPES
from shieldwall.domain.stix_validation.vocabulary import SDO_TYPES as SDO_TYPES
from shieldwall.domain.stix_validation.vocabulary import SPEC_VERSION as SPEC_VERSION
from shieldwall.domain.stix_validation.vocabulary import SRO_TYPES as SRO_TYPES

__all__ = ["ValidObject", "validate_object"]
