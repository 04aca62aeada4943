"""Unit tests of report extraction: defanging, typing, validation, formats and bundles."""

from __future__ import annotations

import itertools
import uuid

import pytest
import stix2
from stix2validator import ValidationOptions, validate_instance

from shieldwall.domain.extraction import (
    Extraction,
    detect_format,
    extract,
    refang_value,
    sco_id,
    to_bundle,
)
from shieldwall.domain.extraction.stix_patterns import pattern_for
from shieldwall.domain.patterns import parse_pattern

CREATED = 1_700_000_000_123_456


def values(extraction: Extraction, kind: str | None = None) -> list[str]:
    return [i.value for i in extraction.indicators if kind is None or i.kind == kind]


def kinds(extraction: Extraction) -> dict[str, str]:
    return {i.value: i.kind for i in extraction.indicators}


def skipped(extraction: Extraction) -> dict[str, str]:
    return {s.value: s.reason for s in extraction.skipped}


def fresh_ids() -> itertools.count[int]:
    return itertools.count(1)


def bundle_of(extraction: Extraction, **extra: object) -> dict[str, object]:
    counter = fresh_ids()

    def new_id(object_type: str) -> str:
        return f"{object_type}--{uuid.UUID(int=next(counter), version=4)}"

    return to_bundle(
        extraction,
        name="Test report",
        description="From a unit test.",
        created=CREATED,
        new_id=new_id,
        **extra,
    )  # type: ignore[arg-type]


def assert_valid(bundle: dict[str, object]) -> None:
    options = ValidationOptions(version="2.1")
    result = validate_instance(bundle, options)
    assert result.is_valid, [str(e) for e in result.errors]
    objects = bundle["objects"]
    assert isinstance(objects, list)
    for obj in objects:
        single = validate_instance(obj, options)
        assert single.is_valid, (obj, [str(e) for e in single.errors])
    ids = {o["id"] for o in objects}
    report = next(o for o in objects if o["type"] == "report")
    assert set(report["object_refs"]) == ids - {report["id"]}


# --------------------------------------------------------------------------- defanging


@pytest.mark.parametrize(("written", "kind", "value"), [
    ("hxxp://evil-site[.]com/a/b.php", "url", "http://evil-site.com/a/b.php"),
    ("hxxps://evil-site[.]com/x", "url", "https://evil-site.com/x"),
    ("hXXps[:]//evil-site(.)net/x", "url", "https://evil-site.net/x"),
    ("http[:]//evil-site[dot]org/path", "url", "http://evil-site.org/path"),
    ("evil-site(dot)com", "domain-name", "evil-site.com"),
    ("evil-site{.}com", "domain-name", "evil-site.com"),
    ("evil-site [dot] info", "domain-name", "evil-site.info"),
    ("185.87.148[.]86", "ipv4-addr", "185.87.148.86"),
    ("185[.]87[.]148[.]86", "ipv4-addr", "185.87.148.86"),
    ("attacker[at]mail-box[.]ru", "email-addr", "attacker@mail-box.ru"),
    ("attacker[@]mail-box[.]ru", "email-addr", "attacker@mail-box.ru"),
    ("Attacker(at)mail-box.ru", "email-addr", "attacker@mail-box.ru"),
])  # fmt: skip
def test_defanged_forms(written: str, kind: str, value: str) -> None:
    extraction = extract(f"The C&C is {written} since May.")
    assert kinds(extraction) == {value: kind}
    indicator = extraction.indicators[0]
    assert indicator.defanged
    start, end = indicator.spans[0]
    assert extraction.text[start:end] == written
    assert refang_value(written) == value if kind != "email-addr" else True


def test_spans_refer_to_the_unrefanged_text() -> None:
    extraction = extract("first evil-site[.]com then hxxp://evil-site[.]com/x and evil-site[.]com")
    domain = next(i for i in extraction.indicators if i.kind == "domain-name")
    assert [extraction.text[a:b] for a, b in domain.spans] == ["evil-site[.]com"] * 2
    assert "evil-site[.]com" in extraction.text  # refanging does not touch the text


# --------------------------------------------------------------------------- hashes

SHA256 = "e9c3aeeb3fe1d487559ba98f6db103e31eb02e96568bcf0955f79cbdfa3e406d"
SHA1 = "c273b244ea7dff20b1d6b1c7fd97f343201984b3"
MD5 = "5ebfe9a9ab9c2c4b7d3e1a2b3c4d5e6f"
SHA512 = "ab" * 56 + "0123456789abcdef"


def test_hashes_typed_by_length() -> None:
    text = f"Dropper {MD5.upper()}\nLoader {SHA1.upper()}\nBackdoor {SHA256}\nKit {SHA512}"
    assert kinds(extract(text)) == {
        MD5: "file:hashes.MD5",
        SHA1: "file:hashes.SHA-1",
        SHA256: "file:hashes.SHA-256",
        SHA512: "file:hashes.SHA-512",
    }


def test_hash_typed_by_column_and_context() -> None:
    table = (
        "| SHA-256 | Thumbprint | imphash | File name |\n"
        "|---|---|---|---|\n"
        f"| `{SHA256}` | `{SHA1}` | `{MD5}` | `setup.exe` |\n"
    )
    extraction = extract(table, "markdown")
    assert kinds(extraction) == {SHA256: "file:hashes.SHA-256", "setup.exe": "file:name"}
    reasons = skipped(extraction)
    assert "thumbprint" in reasons[SHA1]
    assert "imphash" in reasons[MD5]


def test_hash_context_on_the_line_and_sha3() -> None:
    extraction = extract(f"SHA3-256: {SHA256}\nwallet 0x{SHA1}\nNTLM hash: {MD5}")
    assert kinds(extraction) == {SHA256: "file:hashes.SHA3-256"}
    assert set(skipped(extraction)) == {f"0x{SHA1}", MD5}


def test_hex_inside_file_names_and_words_is_not_a_hash() -> None:
    text = f"{SHA256}.php and x{SHA1} and {'1' * 40} and {'a' * 32}"
    extraction = extract(text)
    assert values(extraction, "file:name") == [f"{SHA256}.php"]
    assert not [i for i in extraction.indicators if i.kind.startswith("file:hashes")]


def test_empty_file_hash_is_benign_unless_asked() -> None:
    empty = "d41d8cd98f00b204e9800998ecf8427e"
    assert values(extract(f"MD5 {empty}")) == []
    assert values(extract(f"MD5 {empty}", include_benign=True)) == [empty]


# --------------------------------------------------------------------------- addresses


def test_ipv4_and_ipv6() -> None:
    text = (
        "C&C 91.219.236.38:443, 2a03:b0c0:3:d0::1a2:b001 and 2A03:B0C0:0003:00D0:0000:0000:"
        "01A2:B001, subnet 45.136.199.0/24, version 1.2.3.4 and v10.0.19041.1, 999.1.1.1"
    )
    extraction = extract(text)
    assert kinds(extraction) == {
        "91.219.236.38": "ipv4-addr",
        "2a03:b0c0:3:d0::1a2:b001": "ipv6-addr",
        "45.136.199.0/24": "ipv4-addr",
    }
    ipv6 = next(i for i in extraction.indicators if i.kind == "ipv6-addr")
    assert len(ipv6.spans) == 2  # the compressed and the full form merge


@pytest.mark.parametrize("address", [
    "10.1.2.3", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.10.10", "224.0.0.251",
    "192.0.2.15", "198.51.100.7", "203.0.113.9", "100.64.1.1", "0.0.0.0",  # noqa: S104
        "255.255.255.255",
    "240.1.2.3", "::1", "fe80::1", "fd12:3456::1", "2001:db8::42", "ff02::1", "8.8.8.8",
])  # fmt: skip
def test_private_reserved_and_documentation_addresses_skipped(address: str) -> None:
    extraction = extract(f"It connects to {address} first.")
    assert values(extraction) == []
    assert len(extraction.skipped) == 1 and extraction.skipped[0].reason
    kept = extract(f"It connects to {address} first.", include_benign=True)
    assert len(values(kept)) == 1


# --------------------------------------------------------------------------- domains


def test_domains_checked_against_the_public_suffix_list() -> None:
    text = (
        "Hosts: evil.co.uk, a.b.sytes.net, update.xn--6frz82g, bad.notatld, co.uk, "
        "x.onion, rlwryismmgjijryr55u5rqlbqghqvrwxe5qgxupuviyysxkky5wah6yd.onion, "
        "example.com, www.example.org, host.test, box.local, e.g. this"
    )
    extraction = extract(text)
    assert values(extraction, "domain-name") == [
        "evil.co.uk",
        "a.b.sytes.net",
        "update.xn--6frz82g",
        "rlwryismmgjijryr55u5rqlbqghqvrwxe5qgxupuviyysxkky5wah6yd.onion",
    ]
    reasons = skipped(extraction)
    assert "reserved" in reasons["example.com"] and "reserved" in reasons["host.test"]
    assert values(extract("see example.com", include_benign=True)) == []  # never valid


def test_file_names_are_not_domains() -> None:
    text = (
        "It drops setup.exe, update.dll and config.json, runs install.sh and main.py, "
        "unpacks payload.zip and shows clip.mov; Win32/Agent.KW and Win64/NukeSped.KT "
        "are detections; ASP.NET is a framework; com.apple.Safari is a bundle."
    )
    extraction = extract(text)
    assert values(extraction, "domain-name") == []
    assert values(extraction, "file:name") == [
        "setup.exe",
        "update.dll",
        "config.json",
        "install.sh",
        "main.py",
        "payload.zip",
        "clip.mov",
    ]


def test_ambiguous_extension_is_a_domain_when_defanged_or_in_a_network_column() -> None:
    assert kinds(extract("C&C: payload[.]zip")) == {"payload.zip": "domain-name"}
    table = "| Domain | First seen |\n|---|---|\n| `evil.zip` | 2023-01-01 |"
    assert kinds(extract(table, "markdown")) == {"evil.zip": "domain-name"}
    table = "| Filename | Detection |\n|---|---|\n| `evil.zip` | Win32/Agent.A |"
    assert kinds(extract(table, "markdown")) == {"evil.zip": "file:name"}


def test_reference_links_are_not_indicators() -> None:
    text = (
        "The blog post is at https://www.welivesecurity.com/2022/07/19/cloudmensis/ and the "
        "sample on https://www.virustotal.com/gui/file/abc, the rule on "
        "https://github.com/eset/malware-ioc, technique https://attack.mitre.org/techniques/"
        "T1059/001/.\nC&C: hxxps://github[.]com/evil-user/payloads (abused) and "
        "hxxp://bad-cdn[.]net/x.js"
    )
    extraction = extract(text)
    assert values(extraction, "url") == [
        "https://github.com/evil-user/payloads",
        "http://bad-cdn.net/x.js",
    ]
    assert len([s for s in extraction.skipped if s.kind == "url"]) == 4
    assert [t.id for t in extraction.techniques] == ["T1059.001"]
    kept = extract(text, include_benign=True)
    assert len(values(kept, "url")) == 6


def test_plain_domains_in_a_defanging_report_are_left_for_review() -> None:
    text = (
        "C&C servers: evil-one[.]com, evil-two[.]net, 45.136.199[.]67.\n"
        "Compromised website: victim-news.com"
    )
    extraction = extract(text)
    assert values(extraction, "domain-name") == ["evil-one.com", "evil-two.net"]
    assert "victim-news.com" in skipped(extraction)
    assert "victim-news.com" in values(extract(text, include_benign=True))


# --------------------------------------------------------------------------- e-mails, CVEs


def test_emails_and_cves() -> None:
    text = (
        "Sent from team.managment@outlook[.]com and SunyaF@seznam.cz to user@example.com "
        "exploiting cve-2023-23397 and CVE-2021-1732 (again CVE-2021-1732)."
    )
    extraction = extract(text)
    assert values(extraction, "email-addr") == ["team.managment@outlook.com", "sunyaf@seznam.cz"]
    assert extraction.vulnerabilities == ["CVE-2023-23397", "CVE-2021-1732"]
    assert "user@example.com" in skipped(extraction)


def test_duplicates_merged_with_all_spans() -> None:
    text = f"{SHA1}\nagain {SHA1.upper()} and evil-site[.]com, EVIL-SITE[.]COM, evil-site[.]com"
    extraction = extract(text)
    assert len(extraction.indicators) == 2
    sha1, domain = extraction.indicators
    assert len(sha1.spans) == 2 and len(domain.spans) == 3
    assert [extraction.text[a:b] for a, b in domain.spans][1] == "EVIL-SITE[.]COM"


# --------------------------------------------------------------------------- formats


def test_markdown() -> None:
    text = (
        "# Campaign X\n\nSee [the blog](https://www.welivesecurity.com/x) and "
        "[our notes](https://notes.vendor-blog.net/post).\n\n"
        "| SHA-1 | Filename |\n|:---|---|\n"
        f"| `{SHA1.upper()}` | `dropper.exe` |\n\n"
        "```\nhxxp://evil-site[.]com/gate.php\n```\n"
        "**C&C**: `91.219.236[.]38`\n"
    )
    extraction = extract(text, "markdown")
    assert extraction.title == "Campaign X"
    assert kinds(extraction) == {
        SHA1: "file:hashes.SHA-1",
        "dropper.exe": "file:name",
        "http://evil-site.com/gate.php": "url",
        "91.219.236.38": "ipv4-addr",
    }
    assert "https://notes.vendor-blog.net/post" in skipped(extraction)  # a hyperlink target
    assert "|---" not in extraction.text and "**" not in extraction.text


def test_asciidoc_tables_and_links() -> None:
    text = (
        "= Campaign Y -- Indicators of Compromise\n:toc:\n\n"
        "The blog post is https://www.welivesecurity.com/y/[on WeLiveSecurity]; MISP event "
        "link:misp-y.json[`misp-y.json`].\n\n"
        '[cols="3*",options="header"]\n|===\n|SHA-1\n|File name\n|C&C URL\n'
        f"|`{SHA1.upper()}`\n|`HSBC job offer.pdf`\n|`++https://cuturl[.]app/sot2qq++`\n|===\n\n"
        ".SHA-256 of the loader\n----\n"
        f"{SHA256.upper()}\n----\n\n"
        '[options="header"]\n|===\n| IP address | Domain | First seen\n'
        "| `45.136.199[.]67` | `securityocspdev[.]com` | 2022-07-05\n|===\n"
    )
    extraction = extract(text, "asciidoc")
    assert extraction.title == "Campaign Y -- Indicators of Compromise"
    assert kinds(extraction) == {
        SHA1: "file:hashes.SHA-1",
        "HSBC job offer.pdf": "file:name",
        "https://cuturl.app/sot2qq": "url",
        SHA256: "file:hashes.SHA-256",
        "45.136.199.67": "ipv4-addr",
        "securityocspdev.com": "domain-name",
    }
    assert "misp-y.json" not in values(extraction)
    assert "SHA-1 | File name | C&C URL" in extraction.text


def test_html() -> None:
    text = (
        "<!doctype html><html><head><title>Campaign Z</title><style>.a{color:red}</style>"
        "<script>var u = 'http://script-only.com/x.js';</script></head><body>"
        "<h1>Campaign Z</h1><p>Read <a href='https://www.eset.com/z'>our analysis</a>.</p>"
        "<table><tr><th>IP</th><th>Domain</th></tr>"
        "<tr><td>91.219.236[.]38</td><td>evil&#45;site[.]com</td></tr></table>"
        "<p>Payload <code>hxxp://evil&#x2d;site[.]com/a&amp;b</code></p></body></html>"
    )
    assert detect_format("report.html", text) == "html"
    extraction = extract(text, "html")
    assert extraction.title == "Campaign Z"
    assert kinds(extraction) == {
        "91.219.236.38": "ipv4-addr",
        "evil-site.com": "domain-name",
        "http://evil-site.com/a&b": "url",
    }
    assert "script-only" not in extraction.text and "color" not in extraction.text
    assert "IP | Domain" in extraction.text


def test_detect_format() -> None:
    assert detect_format("x.adoc", "") == "asciidoc"
    assert detect_format("x.md", "") == "markdown"
    assert detect_format("x.txt", "# not markdown") == "text"
    assert detect_format(None, "= Title\n\n== Section\n|===\n|a\n|===") == "asciidoc"
    assert detect_format(None, "# Title\n\n[x](https://a.b)") == "markdown"
    assert detect_format(None, "<html><body><p>x</p></body></html>") == "html"
    assert detect_format(None, "plain words") == "text"


def test_unknown_format_is_refused() -> None:
    from shieldwall.domain.errors import InvalidInput

    with pytest.raises(InvalidInput):
        extract("x", "docx")


# --------------------------------------------------------------------------- ATT&CK, software


def test_techniques_resolved_with_real_attack_data() -> None:
    extraction = extract(
        "Uses T1059.001 and T1566.001, T1071.001 again T1059.001; T9999 is "
        "not real. The Ramsay toolkit and Win32/InvisiMole.A use Mimikatz."
    )
    ids = [t.id for t in extraction.techniques]
    assert ids == ["T1059.001", "T1566.001", "T1071.001"]
    powershell = extraction.techniques[0]
    assert powershell.name == "PowerShell"
    assert powershell.stix_id == "attack-pattern--970a3432-3237-47ad-bcca-7d8cbb217736"
    assert powershell.url == "https://attack.mitre.org/techniques/T1059/001"
    assert len(powershell.spans) == 2
    assert "T9999" in skipped(extraction)
    assert extraction.malware == ["Ramsay", "InvisiMole"]
    assert extraction.tools == ["Mimikatz"]


def test_software_names_need_context_when_they_are_ordinary_words() -> None:
    assert extract("We play carbon copies at the net.").malware == []
    assert extract("The LightlessCan backdoor and the Carbon malware.").malware == [
        "LightlessCan",
        "Carbon",
    ]


# --------------------------------------------------------------------------- patterns, bundles


def test_patterns_parse_and_escape() -> None:
    text = (
        "| File name |\n|---|\n| it's here.exe |\n\nURL hxxp://evil-site[.]com/a\\c\n"
        f"{SHA1} {SHA256} {MD5} evil-site[.]org 91.219.236[.]38 2a03:b0c0:3:d0::1a2:b001 "
        "x@evil-site[.]org"
    )
    extraction = extract(text)
    assert len(extraction.indicators) >= 9
    for indicator in extraction.indicators:
        parse_pattern(indicator.pattern)
    name = next(i for i in extraction.indicators if i.kind == "file:name")
    assert name.pattern == "[file:name = 'it\\'s here.exe']"
    assert pattern_for("url", "http://x.com/a'b\\c") == "[url:value = 'http://x.com/a\\'b\\\\c']"
    parse_pattern(pattern_for("url", "http://x.com/a'b\\c"))
    sha256 = next(i for i in extraction.indicators if i.kind == "file:hashes.SHA-256")
    assert sha256.pattern == f"[file:hashes.'SHA-256' = '{SHA256}']"


def test_sco_ids_are_the_stix_deterministic_ids() -> None:
    assert (
        sco_id("domain-name", {"value": "evil-site.com"})
        == stix2.DomainName(value="evil-site.com").id
    )
    assert (
        sco_id("ipv4-addr", {"value": "91.219.236.38"})
        == stix2.IPv4Address(value="91.219.236.38").id
    )
    assert (
        sco_id("file", {"hashes": {"SHA-256": SHA256}}) == stix2.File(hashes={"SHA-256": SHA256}).id
    )
    assert sco_id("url", {"value": "http://é.com/ü"}) == stix2.URL(value="http://é.com/ü").id


def test_bundle_is_valid_stix() -> None:
    text = (
        "= Ramsay campaign\n\nThe Ramsay toolkit (Win32/Ramsay.A) exploits CVE-2017-11882.\n\n"
        f"----\n{SHA1}\n{SHA256}\n----\n\n"
        "* `hxxp://evil-site[.]com/gate.php`\n* `evil-site[.]net`\n* `91.219.236[.]38`\n"
        "* `2a03:b0c0:3:d0::1a2:b001`\n* `x@evil-site[.]org`\n* `dropper.exe`\n\n"
        "|===\n|ID |Name\n|T1059.001 |Command and Scripting Interpreter: PowerShell\n"
        "|T1566.001 |Phishing: Spearphishing Attachment\n|===\n"
    )
    extraction = extract(text, "asciidoc")
    bundle = bundle_of(
        extraction,
        created_by_ref="identity--" + str(uuid.UUID(int=7, version=4)),
        object_marking_refs=["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],
    )
    assert_valid(bundle)
    objects = bundle["objects"]
    assert isinstance(objects, list)
    types = [o["type"] for o in objects]
    assert types.count("indicator") == len(extraction.indicators) == 8
    assert types.count("attack-pattern") == 2 and types.count("vulnerability") == 1
    malware = next(o for o in objects if o["type"] == "malware")
    assert malware["is_family"] is True and malware["name"] == "Ramsay"
    relations = [o for o in objects if o["type"] == "relationship"]
    assert sum(r["relationship_type"] == "indicates" for r in relations) == 8
    assert sum(r["relationship_type"] == "uses" for r in relations) == 2
    pattern = next(o for o in objects if o["type"] == "attack-pattern")
    assert pattern["external_references"][0] == {
        "source_name": "mitre-attack",
        "external_id": "T1059.001",
        "url": "https://attack.mitre.org/techniques/T1059/001",
    }
    indicator = next(o for o in objects if o["type"] == "indicator")
    assert indicator["valid_from"] == "2023-11-14T22:13:20.123Z"
    scos = [o for o in objects if o["type"] in ("ipv4-addr", "domain-name", "file", "url")]
    assert all("created" not in o for o in scos)


def test_bundle_of_an_empty_extraction_is_valid() -> None:
    assert_valid(bundle_of(extract("Nothing to see here.")))


def test_bundles_of_every_format_are_valid() -> None:
    documents = {
        "text": f"C&C evil-site[.]com, 91.219.236[.]38, {SHA1}, T1105, Mimikatz",
        "markdown": f"# R\n\n| SHA-1 | File |\n|---|---|\n| {SHA1} | a.exe |\n",
        "html": f"<p>C&amp;C <b>evil-site[.]com</b> {SHA256}</p>",
        "asciidoc": f"= R\n\n----\n{MD5}\n----\n",
    }
    for fmt, text in documents.items():
        extraction = extract(text, fmt)
        assert extraction.indicators, fmt
        assert_valid(bundle_of(extraction))
