"""MISP galaxies (clusters and ``misp-galaxy:`` tags) as STIX domain objects.

Contract: pure.  :func:`from_tag` reads ``misp-galaxy:<galaxy>="<value>"``;
:func:`from_galaxies` reads an event's or attribute's ``Galaxy`` array (each galaxy's
``type`` with its ``GalaxyCluster`` values, description and synonyms).  Both return
:class:`Entity` records, ``None``/nothing for galaxies that name no STIX object:

* ``threat-actor`` (and an attribute of type ``threat-actor``) → ``threat-actor``;
* ``…intrusion-set``, ``microsoft-activity-group`` → ``intrusion-set``;
* ``…attack-pattern`` → ``attack-pattern``; ``Name - T1234.001`` is resolved through
  :func:`shieldwall.domain.extraction.attack.technique` (name, url, revocations) when ATT&CK
  knows the id, else kept as written with MITRE's url for the id;
* ``…malware``, ``malpedia``, ``ransomware``, ``rat``, ``banker``, ``stealer``, ``backdoor``,
  ``botnet``, ``android``, ``cryptominers``, ``exploit-kit`` → ``malware`` (a family);
* ``…tool`` → ``tool``.

``Name - S0001``/``Name - G0007`` (MITRE's software and group galaxies) keep ``Name`` and
add a ``mitre-attack`` external reference.  :attr:`Entity.key` identifies an entity within
an event, so a tag and its cluster give one object.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from shieldwall.domain.extraction import attack

_TAG = re.compile(r'misp-galaxy:([A-Za-z0-9_.-]+)\s*=\s*"(.+)"', re.DOTALL)
_MITRE_SUFFIX = re.compile(r"(.+?)\s+-\s+([TSGC]\d{4}(?:\.\d{3})?)")
_MALWARE_GALAXIES = frozenset(
    {"malpedia", "ransomware", "rat", "banker", "stealer", "backdoor", "botnet", "android",
     "cryptominers", "exploit-kit", "malware"}
)  # fmt: skip
_MITRE_PAGES = {"T": "techniques", "S": "software", "G": "groups", "C": "campaigns"}


@dataclass(frozen=True, slots=True)
class Entity:
    """A STIX SDO named by a galaxy: type, name, optional MITRE id and details."""

    stix_type: str
    name: str
    external_id: str | None = None
    url: str | None = None
    description: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Identity within an event: the MITRE id when there is one, else the name."""
        return f"{self.stix_type}|{(self.external_id or self.name).casefold()}"


def stix_type(galaxy: str) -> str | None:
    """The STIX type a MISP galaxy's clusters become, or ``None``."""
    kind = galaxy.strip().lower()
    if kind == "threat-actor":
        return "threat-actor"
    if kind.endswith("intrusion-set") or kind == "microsoft-activity-group":
        return "intrusion-set"
    if kind.endswith("attack-pattern"):
        return "attack-pattern"
    if kind.endswith("malware") or kind in _MALWARE_GALAXIES:
        return "malware"
    if kind.endswith("tool"):
        return "tool"
    return None


def from_tag(tag: str) -> Entity | None:
    """The entity a ``misp-galaxy:`` tag names, or ``None``."""
    match = _TAG.fullmatch(tag.strip())
    if match is None:
        return None
    kind = stix_type(match.group(1))
    return entity(kind, match.group(2)) if kind else None


def from_galaxies(galaxies: object) -> Iterator[Entity]:
    """The entities of a ``Galaxy`` array's clusters."""
    for galaxy in galaxies if isinstance(galaxies, list) else []:
        if not isinstance(galaxy, dict) or not isinstance(galaxy.get("type"), str):
            continue
        kind = stix_type(galaxy["type"])
        clusters = galaxy.get("GalaxyCluster")
        if kind is None or not isinstance(clusters, list):
            continue
        for cluster in clusters:
            if isinstance(cluster, dict) and isinstance(cluster.get("value"), str):
                found = entity(kind, cluster["value"], cluster)
                if found is not None:
                    yield found


def entity(kind: str, value: str, cluster: Mapping[str, object] | None = None) -> Entity | None:
    """An entity of STIX type ``kind`` from a cluster value such as ``Name - T1234``."""
    value = value.strip()
    if not value:
        return None
    name, external_id = value, None
    match = _MITRE_SUFFIX.fullmatch(value)
    if match is not None:
        name, external_id = match.group(1).strip(), match.group(2).upper()
    description = _description(cluster)
    aliases = _aliases(cluster, name)
    url = _mitre_url(external_id) if external_id else None
    if kind == "attack-pattern" and external_id and external_id.startswith("T"):
        record = attack.technique(external_id)
        if record is not None:
            if record.revoked_from:
                note = (
                    f"MISP names {record.revoked_from} ({name}), which ATT&CK revoked in "
                    f"favour of {record.id} ({record.name})."
                )
                description = f"{note}\n\n{description}" if description else note
            name, external_id, url = record.name, record.id, record.url
    return Entity(kind, name, external_id, url, description, aliases)


def _mitre_url(external_id: str) -> str:
    page = _MITRE_PAGES[external_id[0]]
    return f"https://attack.mitre.org/{page}/" + external_id.replace(".", "/")


def _description(cluster: Mapping[str, object] | None) -> str | None:
    text = cluster.get("description") if cluster else None
    return text.strip() if isinstance(text, str) and text.strip() else None


def _aliases(cluster: Mapping[str, object] | None, name: str) -> tuple[str, ...]:
    meta = cluster.get("meta") if cluster else None
    synonyms = meta.get("synonyms") if isinstance(meta, dict) else None
    if not isinstance(synonyms, list):
        return ()
    seen = {name.casefold()}
    aliases: list[str] = []
    for synonym in synonyms:
        if isinstance(synonym, str) and synonym.strip() and synonym.strip().casefold() not in seen:
            seen.add(synonym.strip().casefold())
            aliases.append(synonym.strip())
    return tuple(aliases)
