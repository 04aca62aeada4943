"""A compiled STIX 2.1 pattern matcher (indexes by path and value; stix2-matcher semantics).

``Matcher.compile(pairs)`` → ``matcher.match(observations)`` / ``matcher.match_values(kind,
values)``.  Module map: ``model`` (inputs, outputs), ``values`` (one comparison on one value),
``paths`` (object paths, normalisation), ``ip`` (addresses, CIDR index), ``index`` (per-path
indexes), ``nodes``/``compiler`` (patterns → indexes), ``bindings``/``evaluate`` (observation
operators), ``matcher`` (the API).
"""

from shieldwall.domain.matching.matcher import Matcher
from shieldwall.domain.matching.model import Match, Observation, Rejection

__all__ = ["Match", "Matcher", "Observation", "Rejection"]
