"""Each log format on a realistic sample: exact observables, timestamps, line numbers; detection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from logs_support import (
    DOM,
    IP4,
    IP6,
    MAIL,
    MD5,
    MD5_A,
    MD5_B,
    SAMPLES,
    SHA1,
    SHA1_A,
    SHA1_B,
    SHA256,
    SHA256_A,
    SHA512,
    SHA512_EICAR,
    URL,
    Summary,
    read_sample,
    summary,
    ts,
)

from shieldwall.domain.logs import FORMATS, detect_format, read_records

EXPECTED: dict[str, tuple[str, int, Summary]] = {
    # sample: (detected format, number of lines, what the lines carry)
    "plain.txt": (
        "plain",
        16,
        {
            2: (None, [(IP4, "198.51.100.23")]),
            3: (None, [(DOM, "evil-update.net")]),
            4: (
                None,
                [
                    (URL, "https://login-micr0soft.com/owa/auth.php"),
                    (DOM, "login-micr0soft.com"),
                ],
            ),
            5: (None, [(DOM, "paypal-secure.info")]),
            6: (None, [(MAIL, "attacker@phish-mail.org")]),
            8: (None, [(MD5, MD5_A)]),
            9: (None, [(SHA1, SHA1_A)]),
            10: (None, [(SHA256, SHA256_A)]),
            11: (None, [(SHA512, SHA512_EICAR)]),
            12: (None, [(IP6, "2001:db8:dead:beef::17")]),
            13: (None, [(DOM, "evil-update.net")]),
            # 14 index.php and 15 1.2.3 are neither domains nor addresses
            16: (None, [(MAIL, "ops@corp-mail.com"), (IP4, "203.0.113.9")]),
        },
    ),
    "firewall.csv": (
        "csv",
        5,
        {
            2: (
                ts("2024-03-01T10:15:30Z"),
                [
                    (IP4, "10.1.2.3"),
                    (IP4, "198.51.100.23"),
                    (DOM, "evil-update.net"),
                    (URL, "https://evil-update.net/gate.php?id=7"),
                ],
            ),
            3: (
                ts("2024-03-01T10:15:31.250Z"),
                [
                    (IP4, "10.1.2.4"),
                    (IP4, "192.0.2.44"),
                    (URL, "http://192.0.2.44/payload.bin"),
                    (MD5, MD5_A),
                ],
            ),
            # report.pdf is a file, "version 1.2.3" no address
            4: (ts("2024-03-01T10:16:00Z"), [(IP4, "10.1.2.5"), (IP4, "203.0.113.80")]),
        },
    ),
    "app.jsonl": (
        "jsonl",
        5,
        {
            1: (
                ts("2024-03-01T10:15:30.123Z"),
                [(IP4, "10.0.0.5"), (IP4, "198.51.100.23"), (DOM, "evil-update.net")],
            ),
            2: (
                ts("2024-03-01T10:15:30Z"),
                [
                    (MAIL, "alice@corp-mail.com"),
                    (URL, "http://phish.example.net/login"),
                    (DOM, "phish.example.net"),
                    (SHA256, SHA256_A),
                    (IP6, "2001:db8:bad::66"),
                ],
            ),
            4: (None, [(IP4, "192.0.2.1")]),  # not JSON: read as text
            5: (ts("2024-03-01T10:15:30Z"), [(IP4, "203.0.113.80")]),
        },
    ),
    "zeek_conn.log": (
        "zeek",
        12,
        {
            9: (ts("2024-03-01T10:15:30.123456Z"), [(IP4, "10.1.2.3"), (IP4, "198.51.100.23")]),
            10: (ts("2024-03-01T10:15:31.000001Z"), [(IP4, "10.1.2.4"), (IP4, "203.0.113.80")]),
            11: (
                ts("2024-03-01T10:15:32.5Z"),
                [(IP6, "2001:db8:1::5"), (IP6, "2001:db8:bad::66")],
            ),
        },
    ),
    "zeek_dns.log": (
        "zeek",
        12,
        {
            9: (
                ts("2024-03-01T10:15:31.000001Z"),
                [
                    (IP4, "10.1.2.4"),
                    (IP4, "203.0.113.80"),
                    (DOM, "evil-update.net"),
                    (IP4, "198.51.100.23"),
                    (IP4, "198.51.100.24"),
                ],
            ),
            10: (
                ts("2024-03-01T10:15:33.25Z"),
                [
                    (IP4, "10.1.2.4"),
                    (IP4, "203.0.113.80"),
                    (DOM, "cdn.evil-update.net"),
                    (DOM, "edge.evil-cdn.io"),
                    (IP4, "198.51.100.30"),
                ],
            ),
            11: (
                ts("2024-03-01T10:15:34Z"),
                [(IP4, "10.1.2.5"), (IP4, "10.1.0.1"), (DOM, "wpad.corp.local")],
            ),
        },
    ),
    "zeek_http.log": (
        "zeek",
        12,
        {
            9: (
                ts("2024-03-01T10:15:35.1Z"),
                [
                    (IP4, "10.1.2.3"),
                    (IP4, "198.51.100.23"),
                    (DOM, "evil-update.net"),
                    (URL, "http://evil-update.net/gate.php?id=7"),
                ],
            ),
            10: (
                ts("2024-03-01T10:15:36.2Z"),
                [
                    (IP4, "10.1.2.4"),
                    (IP4, "192.0.2.44"),
                    (URL, "http://192.0.2.44/payload.bin"),
                    (URL, "http://evil-update.net/gate.php?id=7"),
                    (DOM, "evil-update.net"),
                ],
            ),
            11: (  # a proxy request: the uri is absolute
                ts("2024-03-01T10:15:37.3Z"),
                [
                    (IP4, "10.1.2.6"),
                    (IP4, "10.1.0.8"),
                    (DOM, "phish.example.net"),
                    (URL, "http://phish.example.net:8080/login"),
                ],
            ),
        },
    ),
    "zeek_files.log": (
        "zeek",
        11,
        {
            9: (
                ts("2024-03-01T10:15:36.3Z"),
                [
                    (IP4, "192.0.2.44"),
                    (IP4, "10.1.2.4"),
                    (MD5, MD5_A),
                    (SHA1, SHA1_A),
                    (SHA256, SHA256_A),
                ],
            ),
            10: (
                ts("2024-03-01T10:15:40Z"),
                [
                    (IP4, "198.51.100.23"),
                    (IP4, "198.51.100.24"),
                    (IP4, "10.1.2.3"),
                    (MD5, MD5_B),
                    (SHA1, SHA1_B),
                ],
            ),
        },
    ),
    "zeek_ssl.log": (  # the certificate fingerprint (64 hex digits) is not a file hash
        "zeek",
        10,
        {
            9: (
                ts("2024-03-01T10:15:30.2Z"),
                [(IP4, "10.1.2.3"), (IP4, "198.51.100.23"), (DOM, "login-micr0soft.com")],
            ),
        },
    ),
    "zeek_json.log": (
        "zeek",
        4,
        {
            1: (ts("2024-03-01T10:15:30.123456Z"), [(IP4, "10.1.2.3"), (IP4, "198.51.100.23")]),
            2: (
                ts("2024-03-01T10:15:31.000001Z"),
                [
                    (IP4, "10.1.2.4"),
                    (IP4, "203.0.113.80"),
                    (DOM, "evil-update.net"),
                    (IP4, "198.51.100.23"),
                    (IP4, "198.51.100.24"),
                ],
            ),
            3: (
                ts("2024-03-01T10:15:35.1Z"),
                [
                    (IP4, "10.1.2.3"),
                    (IP4, "198.51.100.23"),
                    (DOM, "evil-update.net"),
                    (URL, "http://evil-update.net/gate.php?id=7"),
                ],
            ),
            4: (
                ts("2024-03-01T10:15:36.3Z"),
                [(IP4, "192.0.2.44"), (IP4, "10.1.2.4"), (MD5, MD5_A), (SHA256, SHA256_A)],
            ),
        },
    ),
    "eve.json": (
        "suricata",
        9,
        {
            1: (ts("2024-03-01T10:15:30.123456Z"), [(IP4, "10.1.2.3"), (IP4, "198.51.100.23")]),
            2: (
                ts("2024-03-01T10:15:31.000001Z"),
                [
                    (IP4, "10.1.2.4"),
                    (IP4, "203.0.113.80"),
                    (DOM, "evil-update.net"),
                    (IP4, "198.51.100.23"),
                    (IP4, "198.51.100.24"),
                    (DOM, "edge.evil-cdn.io"),
                ],
            ),
            3: (
                ts("2024-03-01T10:15:32Z"),
                [(IP4, "10.1.2.4"), (IP4, "203.0.113.80"), (DOM, "cdn.evil-update.net")],
            ),
            4: (
                ts("2024-03-01T10:15:35.1Z"),
                [
                    (IP4, "10.1.2.3"),
                    (IP4, "198.51.100.23"),
                    (DOM, "evil-update.net"),
                    (URL, "http://evil-update.net/gate.php?id=7"),
                    (URL, "http://phish.example.net/login"),
                    (DOM, "phish.example.net"),
                ],
            ),
            5: (  # the JA3 digest is not a file hash
                ts("2024-03-01T10:15:30.2Z"),
                [(IP4, "10.1.2.3"), (IP4, "198.51.100.23"), (DOM, "login-micr0soft.com")],
            ),
            6: (
                ts("2024-03-01T10:15:36.3Z"),
                [
                    (IP4, "192.0.2.44"),
                    (IP4, "10.1.2.4"),
                    (URL, "http://192.0.2.44/payload.bin"),
                    (MD5, MD5_A),
                    (SHA1, SHA1_A),
                    (SHA256, SHA256_A),
                ],
            ),
            7: (ts("2024-03-01T10:20:00Z"), []),  # stats
            8: (
                ts("2024-03-01T10:21:00Z"),
                [
                    (IP4, "198.51.100.77"),
                    (IP4, "10.1.0.25"),
                    (DOM, "mail.phish-mail.org"),
                    (MAIL, "attacker@phish-mail.org"),
                    (MAIL, "alice@corp-mail.com"),
                ],
            ),
            # 9: a truncated line, no observables
        },
    ),
    "access.log": (
        "access",
        7,
        {
            1: (ts("2024-03-01T10:15:30Z"), [(IP4, "198.51.100.23")]),
            2: (
                ts("2024-03-01T10:15:31Z"),
                [
                    (IP4, "10.1.2.3"),
                    (URL, "http://phish.example.net/login"),
                    (DOM, "phish.example.net"),
                ],
            ),
            3: (ts("2024-03-01T10:15:32Z"), [(IP6, "2001:db8:bad::66")]),
            4: (  # vhost_combined; a proxy request for an absolute URL
                ts("2024-03-01T10:15:33Z"),
                [
                    (DOM, "shop.corp-site.com"),
                    (IP4, "192.0.2.44"),
                    (URL, "http://evil-update.net/gate.php?id=7"),
                    (DOM, "evil-update.net"),
                ],
            ),
            5: (  # CONNECT, and an X-Forwarded-For field after the user agent
                ts("2024-03-01T10:15:34Z"),
                [
                    (IP4, "10.1.2.6"),
                    (DOM, "login-micr0soft.com"),
                    (IP4, "203.0.113.9"),
                    (IP4, "10.1.0.8"),
                ],
            ),
            6: (ts("2024-03-01T10:15:35Z"), [(IP4, "198.51.100.24")]),  # IPv4-mapped
            7: (None, [(IP4, "198.51.100.99")]),  # not an access line: read as text
        },
    ),
    "bind_queries.log": (
        "dns",
        4,
        {
            1: (ts("2024-03-01T10:15:30.123Z"), [(IP4, "10.1.2.4"), (DOM, "evil-update.net")]),
            2: (
                ts("2024-03-01T10:15:31.456Z"),
                [(IP6, "2001:db8:1::5"), (DOM, "cdn.evil-update.net")],
            ),
            3: (None, [(IP4, "10.1.2.5"), (DOM, "wpad.corp.local")]),  # syslog: no year
            4: (ts("2024-03-01T10:15:33Z"), []),
        },
    ),
    "pihole.log": (
        "dns",
        9,
        {
            1: (None, [(DOM, "evil-update.net"), (IP4, "192.168.1.20")]),
            2: (None, [(DOM, "evil-update.net")]),
            3: (None, [(DOM, "evil-update.net"), (IP4, "198.51.100.23")]),
            4: (None, [(DOM, "ads.tracker-net.com"), (IP4, "192.168.1.21")]),
            5: (None, [(DOM, "ads.tracker-net.com")]),
            6: (None, [(DOM, "cdn.evil-update.net")]),
            7: (None, [(DOM, "edge.evil-cdn.io"), (IP4, "198.51.100.30")]),
            8: (
                ts("2024-03-01T10:15:33.5Z"),
                [(DOM, "phish.example.net"), (IP4, "192.168.1.22")],
            ),
        },
    ),
    "windows_dns.log": (
        "dns",
        12,
        {
            10: (ts("2024-03-01T10:15:30Z"), [(IP4, "192.168.1.20"), (DOM, "evil-update.net")]),
            11: (ts("2024-03-01T10:15:30Z"), [(IP4, "192.168.1.20"), (DOM, "evil-update.net")]),
            12: (
                ts("2024-03-01T13:05:02Z"),
                [(IP6, "fe80::5cd1:2f11:ab3c:9e10"), (DOM, "cdn.evil-update.net")],
            ),
        },
    ),
}


def test_every_sample_is_covered() -> None:
    assert sorted(EXPECTED) == sorted(path.name for path in SAMPLES.iterdir())
    assert {fmt for fmt, _, _ in EXPECTED.values()} == set(FORMATS) - {"auto"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_read_with_detection(name: str) -> None:
    _, lines, expected = EXPECTED[name]
    records = read_sample(name)
    assert [record.line_no for record in records] == list(range(1, lines + 1))
    assert {record.source for record in records} == {name}
    raw = (SAMPLES / name).read_text(encoding="utf-8").splitlines()
    assert [record.line for record in records] == raw
    assert summary(records) == expected


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_format_is_detected(name: str) -> None:
    fmt, _, _ = EXPECTED[name]
    with (SAMPLES / name).open(encoding="utf-8") as handle:
        head = [line for _, line in zip(range(20), handle, strict=False)]
    assert detect_format(head) == fmt


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_read_with_its_format_named(name: str) -> None:
    fmt, _, expected = EXPECTED[name]
    assert summary(read_sample(name, fmt)) == expected


def test_records_are_lazy() -> None:
    """A stream is read as far as asked (after the head used for detection)."""
    consumed: list[int] = []

    def lines() -> Iterator[str]:
        for index in range(10_000):
            consumed.append(index)
            yield f"192.0.2.{index % 250 + 1}\n"

    records = read_records(lines(), "auto")
    first = next(records)
    assert first.line_no == 1
    assert first.observables[0].value == "192.0.2.1"
    assert len(consumed) <= 21


def test_crlf_and_missing_final_newline() -> None:
    records = list(read_records(["evil-update.net\r\n", "198.51.100.23"], "plain"))
    assert [record.line for record in records] == ["evil-update.net", "198.51.100.23"]
    assert [record.observables[0].value for record in records] == [
        "evil-update.net",
        "198.51.100.23",
    ]


def test_observables_are_distinct_in_order_of_appearance() -> None:
    line = "198.51.100.23 evil-update.net 198.51.100.23 http://evil-update.net/x EVIL-UPDATE.NET"
    (record,) = read_records([line], "plain")
    assert [(o.kind, o.value) for o in record.observables] == [
        (IP4, "198.51.100.23"),
        (DOM, "evil-update.net"),
        (URL, "http://evil-update.net/x"),
    ]


def test_unknown_format_raises_at_once() -> None:
    from shieldwall.domain.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown log format 'syslog'"):
        read_records([], "syslog")


def test_empty_input() -> None:
    assert list(read_records([], "auto")) == []
    assert detect_format([]) == "plain"
    assert detect_format(["", "   "]) == "plain"
