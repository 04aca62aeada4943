"""Port stix2-matcher's own test cases into ``stix2matcher_cases.json`` (run once, by hand).

    .venv/bin/python tests/matching/port_stix2matcher_cases.py

Reads the test modules shipped in the installed stix2-matcher (``stix2matcher/test/v20`` and
``v21``, from oasis-open/cti-pattern-matcher, BSD-3-Clause) and writes every parametrized
(pattern, observed data, expected outcome) case as data: ``match``, ``nomatch``,
``matcher-error`` (stix2-matcher raises ``MatcherException``), ``parse-error`` (its parser
refuses the pattern) or ``observations`` (the observed-data it must return, by position).
STIX 2.0 ``START '…' STOP '…'`` strings are also given in 2.1 form (``t'…'``) as ``ours``.
The tests of its private helpers (``_overlap``, ``_timestamp_intervals_within``) are ported by
hand in ``test_matching_units.py``.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

MODULES = (
    "test_basic_ops", "test_binary", "test_comparison_exprs", "test_complex",
    "test_matching_sdos", "test_multi_sdo", "test_null", "test_object_path_quoting",
    "test_observation_exprs", "test_references", "test_temporal_qualifiers", "test_timestamps",
    "test_unicode_normalization",
)  # fmt: skip
SKIPPED = {"test_overlap", "test_intervals_within_match", "test_intervals_within_nomatch"}
OUT = Path(__file__).with_name("stix2matcher_cases.json")
_START_STOP = re.compile(r"\b(START|STOP) '([^']*)'")


def _expected(source: str) -> str:
    if "pytest.raises(MatcherException)" in source:
        return "matcher-error"
    if "pytest.raises(ParseException)" in source:
        return "parse-error"
    if "assert not match(" in source or "assert not res" in source:
        return "nomatch"
    if "assert match(" in source or "assert res\n" in source:
        return "match"
    raise ValueError(f"cannot classify:\n{source}")


def _sdo_ids(observations: list[dict[str, Any]], version: str) -> list[str]:
    """The id of each observation stix2-matcher sees, in its order."""
    if version == "2.0":
        return [sdo.get("id", f"#{i}") for i, sdo in enumerate(observations)]
    return [o["id"] for b in observations for o in b["objects"] if o["type"] == "observed-data"]


def main() -> None:
    sets: dict[str, Any] = {}
    cases: list[dict[str, Any]] = []

    def add(case: dict[str, Any], version: str) -> None:
        pattern = case["pattern"]
        ours = _START_STOP.sub(r"\1 t'\2'", pattern) if version == "2.0" else pattern
        if ours != pattern:
            case["ours"] = ours
        cases.append(case)

    for stix_version in ("2.0", "2.1"):
        package = "v20" if stix_version == "2.0" else "v21"
        for name in MODULES:
            module = importlib.import_module(f"stix2matcher.test.{package}.{name}")
            for function_name, function in inspect.getmembers(module, inspect.isfunction):
                if not function_name.startswith("test_") or function_name in SKIPPED:
                    continue
                source = inspect.getsource(function)
                marks = [m for m in getattr(function, "pytestmark", []) if m.name == "parametrize"]
                assert len(marks) == 1, function_name
                argnames, params = marks[0].args[0], marks[0].args[1]
                found = re.search(r"match\(pattern, (\w+)", source)
                assert found, function_name
                variable = found.group(1)
                mode = stix_version if "stix_version=_stix_version" in source else "2.0"
                key = f"{package}/{name}:{variable}"
                observations = getattr(module, variable)
                sets.setdefault(key, {"stix_version": mode, "observed_data": observations})
                where = f"{package}/{name}.py::{function_name}"
                if argnames == "pattern":
                    expected = _expected(source)
                    for pattern in params:
                        base = {"source": where, "observed_data": key, "pattern": pattern}
                        add({**base, "expected": expected}, mode)
                elif argnames == "pattern,expected_ids":
                    ids = _sdo_ids(observations, mode)
                    for pattern, expected_ids in params:
                        wanted = [expected_ids] if isinstance(expected_ids, str) else expected_ids
                        positions = sorted(ids.index(i) for i in wanted)
                        case = {"source": where, "observed_data": key, "pattern": pattern}
                        add({**case, "expected": "observations", "observations": positions}, mode)
                elif argnames == "interval1,interval2,duration":
                    expected = _expected(source)
                    for n, (interval1, interval2, duration) in enumerate(params):
                        varied = copy.deepcopy(observations)
                        for sdo, interval in ((varied[0], interval1), (varied[1], interval2)):
                            target = sdo["objects"][0] if mode == "2.1" else sdo
                            target["first_observed"], target["last_observed"] = interval
                        variant = f"{key}#{function_name}-{n}"
                        sets[variant] = {"stix_version": mode, "observed_data": varied}
                        pattern = (
                            "([person:name='alice'] AND [person:name='bob']) "
                            f"WITHIN {duration} SECONDS"
                        )
                        case = {"source": where, "observed_data": variant, "pattern": pattern}
                        add({**case, "expected": expected}, mode)
                else:
                    raise ValueError(f"unhandled parameters {argnames!r} in {where}")
    # test_multi_sdo asserts on the returned observed-data, not only on a match.
    for case in cases:
        if case["source"] == "v21/test_multi_sdo.py::test_multy_sdo_match":
            case.update(expected="observations", observations=[0])
        elif case["source"] == "v21/test_multi_sdo.py::test_multy_repeat_match":
            case.update(expected="observations", observations=[0, 1])
        elif case["source"] == "v20/test_multi_sdo.py::test_multy_sdo_match":
            data = sets[case["observed_data"]]["observed_data"]
            first = [s["first_observed"] for s in data].index("1000-12-03T21:34:41Z")
            case.update(expected="observations", observations=[first])
    document = {
        "_source": (
            f"stix2-matcher {version('stix2-matcher')} (oasis-open/cti-pattern-matcher,"
            " stix2matcher/test/v20 and v21), BSD-3-Clause;"
            " written by tests/matching/port_stix2matcher_cases.py"
        ),
        "observed_data": sets,
        "cases": cases,
    }
    OUT.write_text(json.dumps(document, indent=1, ensure_ascii=True) + "\n")
    print(f"{len(cases)} cases, {len(sets)} observed-data sets -> {OUT}")


if __name__ == "__main__":
    main()
