"""MISP events (JSON) → STIX 2.1 objects ready to submit to the hub.

Pure: no I/O, clock or randomness; the same input gives the same objects and ids.

API::

    parse_events(data) -> list[Mapping[str, object]]
    convert_misp(data, *, created_by_ref=None) -> list[ConvertedEvent]
    convert_event(event, *, created_by_ref=None) -> ConvertedEvent
    to_bundle(results) -> dict[str, object]

``data`` is bytes, text or parsed JSON in any MISP form (``{"Event": …}``, ``{"response":
[…]}``, a list, a bare event); what is not MISP JSON raises
:class:`~shieldwall.domain.errors.InvalidInput` saying why (``not JSON: line 37374 column 9:
Expecting value``, ``not a MISP event: no Event …``).  Each :class:`ConvertedEvent` carries
the objects (the report first), the :class:`Skipped` attributes with reasons, and which
objects each attribute became.

Mapping:

* **Attributes with ``to_ids``** (top level and inside ``Object``\\ s) → ``indicator``
  (``pattern_type`` ``stix``, one observation expression; a composite type such as
  ``filename|sha1`` ANDs its parts), ``valid_from`` = ``first_seen``, else the attribute
  timestamp, else the event date; ``name`` = ``type: value``, ``description`` = comment and
  MISP context.  ``yara``/``snort``/``sigma`` rules become indicators in their own
  pattern language, a ``stix2-pattern`` one with that pattern.  The object paths are in
  :mod:`shieldwall.domain.misp.attributes`.
* **Attributes without ``to_ids``** that are observables → SCOs (deterministic ids of
  STIX 2.1 §2.9), all referenced by one ``observed-data`` per event (first/last observed
  from ``first_seen``/``last_seen`` or the timestamps).  Types with a pattern but no
  self-standing SCO (``user-agent``, ``port``, ``imphash``, wallets …) are skipped then.
* ``text``, ``comment``, ``other`` → ``note`` on the report (and on the other objects of
  the same MISP object); ``vulnerability`` → ``vulnerability`` (with its CVE reference);
  ``campaign-name`` → ``campaign``; ``threat-actor`` → ``threat-actor``; ``link`` → an
  external reference of the report.  Deleted attributes, unknown types and values that do
  not fit their type are listed in ``skipped``; nothing is dropped silently.
* **Event** → ``report``: ``name`` = info, ``published`` = publish timestamp or date,
  ``created``/``modified`` = event timestamp, ``report_types`` ``threat-report``,
  ``object_refs`` = everything produced, ``external_references`` = ``{"source_name":
  "misp", "external_id": uuid}`` and the links, ``labels`` = tags that map to nothing else.
* **TLP** tags (``tlp:clear``/``white``/``green``/``amber``/``amber+strict``/``red``, any
  case) → the TLP 2.0 marking id (:mod:`shieldwall.domain.tlp`) in ``object_marking_refs``;
  an attribute's own tag counts only when stricter than the event's; an SCO made by
  several attributes takes the strictest; a relationship the stricter of its ends; a
  galaxy object the least strict place that names it.  No TLP tag: no marking.
* **Galaxies** (tags ``misp-galaxy:…`` and ``Galaxy`` clusters, event and attribute level)
  → ``threat-actor``, ``intrusion-set``, ``attack-pattern`` (ATT&CK id resolved through
  :mod:`shieldwall.domain.extraction.attack`), ``malware`` (``is_family``) and ``tool``;
  ``indicates`` from every indicator to every threat actor, intrusion set, malware and
  campaign, ``uses`` from those actors and malware to every attack pattern.
* **Ids**: SDOs and SROs get UUIDv5 ids under :data:`MISP_NAMESPACE` from the importer's
  ``created_by_ref``, the MISP event or attribute uuid and the object's role, so importing
  an event again yields the same ids; ``created_by_ref`` is the importer's identity (MISP
  organisations are not turned into identities).

Modules: ``source`` (input forms), ``attributes`` (type → pattern and SCOs), ``galaxies``,
``convert`` (assembly, bundle) and ``common`` (records, ids, MISP scalars).
"""

from __future__ import annotations

from shieldwall.domain.misp.common import MISP_NAMESPACE, ConvertedEvent, Skipped
from shieldwall.domain.misp.convert import convert_event, convert_misp, to_bundle
from shieldwall.domain.misp.source import parse_events

__all__ = [
    "MISP_NAMESPACE",
    "ConvertedEvent",
    "Skipped",
    "convert_event",
    "convert_misp",
    "parse_events",
    "to_bundle",
]
