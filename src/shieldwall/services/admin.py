"""Administration: hub set-up, organisations, sharing groups, declared assets, API keys.

API keys look like ``sw_<key id>_<secret>``. Only SHA-256 of the secret is stored (the
secret carries 256 bits of entropy, so a slow password hash adds nothing); the key is shown
once, when created. Checks use a constant-time comparison.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re

import orjson

from shieldwall.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from shieldwall.domain.organisations import (
    Organisation,
    Role,
    Sector,
    parse_country,
    parse_group_name,
)
from shieldwall.domain.policy import AccessLabel, audience_keys
from shieldwall.domain.scope import COMMUNITY, scope_extension_definition
from shieldwall.domain.sightings import sighting_extension_definition
from shieldwall.domain.timestamps import format_stix_timestamp
from shieldwall.domain.tlp import Tlp, tlp2_marking_definition
from shieldwall.services import audit
from shieldwall.services.context import Hub
from shieldwall.services.ports import (
    CollectionRecord,
    GroupRecord,
    KeyInfo,
    NewObject,
    WriteTx,
)

HUB_IDENTITY_SETTING = "hub_identity_id"
ANONYMOUS_IDENTITY_SETTING = "anonymous_identity_id"
DEFAULT_COLLECTION_ALIAS = "shared"
_KEY = re.compile(r"^sw_([0-9a-f]{12})_([A-Za-z0-9_-]{20,})$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_STIX_SECTORS = {
    Sector.FINANCIAL: "financial-services",
    Sector.LEGAL: "legal-services",
    Sector.GOVERNMENT: "government",
    Sector.INSURANCE: "insurance",
    Sector.TECHNOLOGY: "technology",
    Sector.OTHER: "other",
}


def _to_millis(micros: int) -> int:
    """Truncate to the millisecond, the precision STIX timestamps are written with here, so
    an object's version equals its ``modified`` exactly."""
    return micros - micros % 1000


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _identity_object(
    identity_id: str,
    name: str,
    now: int,
    sector: Sector | None,
    identity_class: str,
    description: str,
) -> dict[str, object]:
    stamp = format_stix_timestamp(now)
    body: dict[str, object] = {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": stamp,
        "modified": stamp,
        "name": name,
        "identity_class": identity_class,
        "description": description,
        "object_marking_refs": [Tlp.CLEAR.marking_id],
    }
    if sector is not None:
        body["sectors"] = [_STIX_SECTORS[sector]]
    return body


def _hub_object(body: dict[str, object], version: int) -> NewObject:
    """A hub-owned, TLP:CLEAR, community object (markings, identities, extension definition)."""
    label = AccessLabel(Tlp.CLEAR, COMMUNITY, None)
    return NewObject(
        stix_id=str(body["id"]),
        stix_type=str(body["type"]),
        spec_version="2.1",
        version=version,
        tlp=int(Tlp.CLEAR),
        audience=audience_keys(label),
        submitter_org_id=None,
        body=orjson.dumps(body).decode(),
        refs=None,
    )


def _publish(tx: WriteTx, hub: Hub, bodies: list[tuple[dict[str, object], int]]) -> None:
    """Add hub-owned objects to every collection (skipping versions already there)."""
    for record in tx.collections():
        existing = tx.existing_versions(record.pk, [str(body["id"]) for body, _ in bodies])
        fresh = [
            _hub_object(body, version)
            for body, version in bodies
            if not any(v.version == version for v in existing.get(str(body["id"]), []))
        ]
        if fresh:
            last = tx.lock_collection(record.pk)
            date_added = max(hub.clock.now(), last + 1)
            tx.insert_objects(record.pk, date_added, fresh)
            tx.set_last_date_added(record.pk, date_added)


def _added_definitions(hub_identity: str) -> list[tuple[dict[str, object], int]]:
    """Definitions every collection carries that releases after the first one added."""
    from shieldwall.domain.timestamps import parse_timestamp

    sighting = sighting_extension_definition(hub_identity)
    return [(sighting, parse_timestamp(str(sighting["modified"])))]


def ensure_hub(hub: Hub) -> None:
    """Create, on first start, the hub's identities, its default collection and the objects
    every collection carries (TLP 2.0 marking definitions, the scope and sighting extension
    definitions).

    Idempotent: a second call changes nothing.
    """
    from shieldwall.domain.timestamps import parse_timestamp

    with hub.store.write() as tx:
        tx.lock_named("hub-setup")  # several processes may start at once on a fresh database
        known = tx.setting(HUB_IDENTITY_SETTING)
        if known is not None:
            _publish(tx, hub, _added_definitions(known))  # hubs set up by earlier releases
            return
        now = _to_millis(hub.clock.now())
        hub_identity = f"identity--{hub.ids.uuid4()}"
        anonymous_identity = f"identity--{hub.ids.uuid4()}"
        tx.set_setting(HUB_IDENTITY_SETTING, hub_identity)
        tx.set_setting(ANONYMOUS_IDENTITY_SETTING, anonymous_identity)
        tx.add_collection(
            hub.ids.uuid4(),
            "Shared intelligence",
            "What members share with the community, under TLP and scope.",
            DEFAULT_COLLECTION_ALIAS,
            members_can_read=True,
            members_can_write=True,
        )
        bodies: list[tuple[dict[str, object], int]] = []
        for level in Tlp:
            marking = tlp2_marking_definition(level)
            bodies.append((marking, parse_timestamp(str(marking["created"]))))
        extension = scope_extension_definition(hub_identity)
        bodies.append((extension, parse_timestamp(str(extension["modified"]))))
        bodies.extend(_added_definitions(hub_identity))
        hub_body = _identity_object(
            hub_identity,
            hub.config.hub_name,
            now,
            None,
            "system",
            "The Shieldwall hub that publishes this collection.",
        )
        anon_body = _identity_object(
            anonymous_identity,
            "Anonymous member",
            now,
            None,
            "group",
            "A member of this hub that chose not to be named.",
        )
        bodies.append((hub_body, now))
        bodies.append((anon_body, now))
        _publish(tx, hub, bodies)


def add_organisation(
    hub: Hub, name: str, sector: str, country: str, role: str = "member", actor: str = "cli"
) -> Organisation:
    """Admit an organisation; publish its STIX identity (TLP:CLEAR) in every collection.
    ``actor`` names who did it in the audit trail (``cli``, or a web user).

    Raises ``InvalidInput`` for a bad sector, country or role and ``Conflict`` when the
    name is taken.
    """
    clean = name.strip()
    if not clean or len(clean) > 200:
        raise InvalidInput("organisation name must be 1-200 characters")
    parsed_sector, parsed_country, parsed_role = (
        Sector.parse(sector),
        parse_country(country),
        Role.parse(role),
    )
    with hub.store.write() as tx:
        if tx.organisation_by_name(clean) is not None:
            raise Conflict(f"an organisation named {clean!r} already exists")
        now = _to_millis(hub.clock.now())
        identity_id = f"identity--{hub.ids.uuid4()}"
        organisation = tx.add_organisation(
            clean, identity_id, parsed_sector, parsed_country, parsed_role, now
        )
        audit.record(
            tx,
            now,
            actor,
            "organisation.add",
            {
                "organisation": clean,
                "sector": parsed_sector.value,
                "country": parsed_country,
                "role": parsed_role.value,
            },
        )
        body = _identity_object(
            identity_id,
            clean,
            now,
            parsed_sector,
            "organization",
            f"Member organisation of this hub ({parsed_country}).",
        )
        _publish(tx, hub, [(body, now)])
    return organisation


def organisation(hub: Hub, name: str) -> Organisation:
    """Find an organisation by name; raise ``NotFound`` when there is none."""
    with hub.store.read() as tx:
        found = tx.organisation_by_name(name)
    if found is None:
        raise NotFound(f"no organisation named {name!r}")
    return found


def list_organisations(hub: Hub) -> list[Organisation]:
    """All organisations (members may list them to address scopes)."""
    with hub.store.read() as tx:
        return tx.organisations()


def declare_assets(
    hub: Hub,
    org_name: str,
    domains: list[str],
    cidrs: list[str],
    keywords: list[str],
    *,
    replace: bool = False,
    actor: str | None = None,
) -> list[tuple[str, str]]:
    """Record an organisation's own assets (used to protect victims); return all its assets.
    With ``replace`` the given values become the whole list (the others are removed).
    ``actor`` (a web user) is recorded in the audit trail with the counts, never the values.

    Domains are lower-cased and checked; CIDRs normalised (``10.0.0.1/8`` → ``10.0.0.0/8``);
    keywords kept as written (trimmed). Raises ``InvalidInput`` naming a bad value.
    """
    values: list[tuple[str, str]] = []
    for domain in domains:
        clean = domain.strip().lower().rstrip(".")
        if not _DOMAIN.match(clean):
            raise InvalidInput(f"{domain!r} is not a domain name")
        values.append(("domain", clean))
    for cidr in cidrs:
        try:
            values.append(("cidr", str(ipaddress.ip_network(cidr.strip(), strict=False))))
        except ValueError:
            raise InvalidInput(f"{cidr!r} is not an IP address or CIDR range") from None
    for keyword in keywords:
        clean = keyword.strip()
        if not clean or len(clean) > 500:
            raise InvalidInput("keywords must be 1-500 characters")
        values.append(("keyword", clean))
    with hub.store.write() as tx:
        found = tx.organisation_by_name(org_name)
        if found is None:
            raise NotFound(f"no organisation named {org_name!r}")
        if replace:
            tx.remove_assets(found.id)
        for kind, value in values:
            tx.add_asset(found.id, kind, value)
        assets = tx.assets(found.id)
        if actor is not None:
            counts = {kind: sum(1 for k, _ in assets if k == kind) for kind in ("domain", "cidr")}
            counts["keyword"] = sum(1 for k, _ in assets if k == "keyword")
            detail: dict[str, object] = {"organisation": found.name, **counts}
            audit.record(tx, hub.clock.now(), actor, "assets.declare", detail)
        return assets


def assets_of(hub: Hub, organisation: Organisation) -> list[tuple[str, str]]:
    """The declared assets of an organisation, as (kind, value) pairs."""
    with hub.store.read() as tx:
        return tx.assets(organisation.id)


def create_key(hub: Hub, org_name: str, label: str = "", actor: str = "cli") -> str:
    """Create an API key for an organisation and return it; it is never shown again.
    ``actor`` names who did it in the audit trail."""
    key_id = hub.ids.uuid4().replace("-", "")[-12:]
    secret = hub.ids.secret(32)
    with hub.store.write() as tx:
        found = tx.organisation_by_name(org_name)
        if found is None:
            raise NotFound(f"no organisation named {org_name!r}")
        now = hub.clock.now()
        tx.add_key(key_id, found.id, _hash_secret(secret), label.strip()[:200], now)
        audit.record(tx, now, actor, "key.create", {"organisation": found.name, "key_id": key_id})
    return f"sw_{key_id}_{secret}"


def list_keys(hub: Hub, org_name: str | None = None) -> list[KeyInfo]:
    """Keys of one organisation, or of all; never their secrets."""
    with hub.store.read() as tx:
        org_id = None
        if org_name is not None:
            found = tx.organisation_by_name(org_name)
            if found is None:
                raise NotFound(f"no organisation named {org_name!r}")
            org_id = found.id
        return tx.keys(org_id)


def revoke_key(hub: Hub, key_id: str, actor: str = "cli") -> None:
    """Revoke a key (by its id, the part after ``sw_``, or the whole key); effective at once.
    ``actor`` names who did it in the audit trail."""
    match = _KEY.match(key_id)
    wanted = match.group(1) if match else key_id
    with hub.store.write() as tx:
        now = hub.clock.now()
        if not tx.revoke_key(wanted, now):
            raise NotFound(f"no active key {wanted!r}")
        audit.record(tx, now, actor, "key.revoke", {"key_id": wanted})


def key_id_of(key: str) -> str:
    """The public id part of a well-formed key (call after ``authenticate``)."""
    match = _KEY.match(key)
    return match.group(1) if match else ""


def record_key_use(hub: Hub, organisation: Organisation, key_id: str) -> None:
    """Note that a key is in use: its last-used time (``shieldwall key list``) and an audit
    entry. The web layer calls this at most every few minutes per key and process."""
    with hub.store.write() as tx:
        now = hub.clock.now()
        tx.touch_key(key_id, now)
        audit.record(tx, now, organisation.name, "key.use", {"key_id": key_id})


def authenticate(hub: Hub, key: str) -> Organisation:
    """The organisation an API key belongs to; raise ``Unauthenticated`` when the key is
    malformed, unknown or revoked (without saying which)."""
    match = _KEY.match(key)
    if match is None:
        raise Unauthenticated("the API key is not valid")
    key_id, secret = match.groups()
    with hub.store.read() as tx:
        record = tx.key(key_id)
    if record is None or record.revoked:
        raise Unauthenticated("the API key is not valid")
    if not hmac.compare_digest(record.secret_hash, _hash_secret(secret)):
        raise Unauthenticated("the API key is not valid")
    return record.organisation


# --- sharing groups ------------------------------------------------------------------


def _actor(actor: Organisation | None) -> str:
    return "cli" if actor is None else actor.name


def _may_manage(actor: Organisation | None, group: GroupRecord) -> bool:
    return actor is None or actor.role is Role.OPERATOR or group.owner == actor.name


def create_group(
    hub: Hub,
    name: str,
    members: list[str],
    actor: Organisation | None = None,
    description: str = "",
) -> GroupRecord:
    """Create a sharing group with ``members`` (organisation names).

    ``actor`` is who asks (``None`` for the local command line, which is the operator);
    a member organisation that creates a group becomes its owner and a member of it.
    """
    clean = parse_group_name(name)
    with hub.store.write() as tx:
        existing = tx.group(clean)
        if existing is not None:
            reason = "was used by a disbanded group" if existing.disbanded else "is taken"
            raise Conflict(f"the sharing group name {clean!r} {reason}; choose another")
        owner_id = None if actor is None or actor.role is Role.OPERATOR else actor.id
        now = hub.clock.now()
        tx.add_group(clean, owner_id, description.strip()[:1000], now)
        audit.record(
            tx, now, _actor(actor), "group.create", {"group": clean, "members": sorted(members)}
        )
        wanted = list(members) + ([actor.name] if owner_id is not None and actor else [])
        for member in wanted:
            found = tx.organisation_by_name(member)
            if found is None:
                raise NotFound(f"no organisation named {member!r}")
            tx.add_group_member(clean, found.id)
        record = tx.group(clean)
    assert record is not None
    return record


def change_group(
    hub: Hub, name: str, add: list[str], remove: list[str], actor: Organisation | None = None
) -> GroupRecord:
    """Add and remove members; only operators and the group's owner may."""
    with hub.store.write() as tx:
        group = tx.group(name)
        if group is None:
            raise NotFound(f"no sharing group named {name!r}")
        if not _may_manage(actor, group):
            raise Forbidden("only operators and the group's owner may change its members")
        if group.disbanded:
            raise Conflict(f"the sharing group {name!r} was disbanded; create a new one")
        for member_name, adding in [(m, True) for m in add] + [(m, False) for m in remove]:
            found = tx.organisation_by_name(member_name)
            if found is None:
                raise NotFound(f"no organisation named {member_name!r}")
            if adding:
                tx.add_group_member(name, found.id)
            else:
                tx.remove_group_member(name, found.id)
        audit.record(
            tx,
            hub.clock.now(),
            _actor(actor),
            "group.change",
            {"group": name, "add": sorted(add), "remove": sorted(remove)},
        )
        record = tx.group(name)
    assert record is not None
    return record


def delete_group(hub: Hub, name: str, actor: Organisation | None = None) -> None:
    """Disband a group: every member is removed, so objects scoped to it no longer reach
    anyone through it. The name stays taken, so that a later group of the same name can
    never inherit what was shared with this one."""
    with hub.store.write() as tx:
        group = tx.group(name)
        if group is None:
            raise NotFound(f"no sharing group named {name!r}")
        if not _may_manage(actor, group):
            raise Forbidden("only operators and the group's owner may delete it")
        now = hub.clock.now()
        tx.delete_group(name, now)
        audit.record(tx, now, _actor(actor), "group.disband", {"group": name})


def list_groups(hub: Hub, actor: Organisation | None = None) -> list[GroupRecord]:
    """Groups visible to ``actor``: all for operators and the command line, else the groups
    it belongs to or owns."""
    with hub.store.read() as tx:
        groups = tx.groups()
    if actor is None or actor.role is Role.OPERATOR:
        return groups
    return [
        g for g in groups if not g.disbanded and (actor.name in g.members or g.owner == actor.name)
    ]


def collections(hub: Hub) -> list[CollectionRecord]:
    """Every collection."""
    with hub.store.read() as tx:
        return tx.collections()
