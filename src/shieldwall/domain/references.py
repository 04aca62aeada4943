"""What a reader receives of an object that refers to objects it may not read.

Privacy comes first: a STIX id can betray content (cyber-observable ids are UUIDv5 of
their value, so ``ipv4-addr--…`` of a victim's address can be confirmed by brute force),
and the mere presence of a reference tells that a hidden object exists. So, per reader:

- an entry of a list reference (``object_refs``, ``where_sighted_refs``, …) that points to
  a stored object the reader may not read is removed;
- an object whose single reference (``source_ref``, ``target_ref``, ``sighting_of_ref``,
  ``sample_ref`` …) points to such an object is withheld entirely, as is an object whose
  required reference list would become empty;
- references to objects the hub does not hold are left alone (they reveal nothing of ours),
  as are ``created_by_ref`` (organisation identities are public to members) and
  ``object_marking_refs``.

Withheld objects behave as if they did not exist for that reader (404, absent from lists,
manifests, versions and counts).
"""

from __future__ import annotations

from collections.abc import Iterable

_EXEMPT = frozenset({"created_by_ref", "object_marking_refs"})
_REQUIRED_LISTS: dict[str, frozenset[str]] = {
    "report": frozenset({"object_refs"}),
    "grouping": frozenset({"object_refs"}),
    "note": frozenset({"object_refs"}),
    "opinion": frozenset({"object_refs"}),
    "observed-data": frozenset({"object_refs"}),
}


def reference_ids(obj: dict[str, object]) -> set[str]:
    """Every id the object refers to through top-level ``*_ref``/``*_refs`` properties,
    except the exempt ones above."""
    found: set[str] = set()
    for name, value in obj.items():
        if name in _EXEMPT:
            continue
        if name.endswith("_ref") and isinstance(value, str):
            found.add(value)
        elif name.endswith("_refs") and isinstance(value, list):
            found.update(item for item in value if isinstance(item, str))
    return found


def collect_reference_ids(objects: Iterable[dict[str, object]]) -> set[str]:
    """The union of ``reference_ids`` over several objects."""
    found: set[str] = set()
    for obj in objects:
        found |= reference_ids(obj)
    return found


def redact_references(obj: dict[str, object], hidden: set[str]) -> dict[str, object] | None:
    """``obj`` as a reader receives it, given the ids ``hidden`` from that reader.

    Returns the object itself when nothing it refers to is hidden, a redacted copy when
    list entries were removed, or ``None`` when the object must be withheld.
    """
    if not hidden:
        return obj
    refs = reference_ids(obj)
    if refs.isdisjoint(hidden):
        return obj
    result = dict(obj)
    required = _REQUIRED_LISTS.get(str(obj.get("type")), frozenset())
    for name, value in obj.items():
        if name in _EXEMPT:
            continue
        if name.endswith("_ref") and isinstance(value, str) and value in hidden:
            return None
        if name.endswith("_refs") and isinstance(value, list):
            kept = [item for item in value if item not in hidden]
            if len(kept) == len(value):
                continue
            if not kept:
                if name in required:
                    return None
                del result[name]
            else:
                result[name] = kept
    return result
