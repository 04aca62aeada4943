"""Unit tests of log reading: what a value is, timestamps, and each format's corner cases."""

from __future__ import annotations

import pytest
from logs_support import DOM, IP4, IP6, MAIL, MD5, MD5_A, SHA256, SHA256_A, URL, ts

from shieldwall.domain.logs import LogObservable, detect_format, read_records, times
from shieldwall.domain.logs.classify import (
    domain,
    email_in,
    file_hash,
    host,
    http_url,
    ip,
    is_ipv6,
    value,
    words,
)
from shieldwall.domain.logs.dns import windows_name


def pairs(found: object) -> list[tuple[str, str]]:
    assert isinstance(found, list | tuple)
    return [(o.kind, o.value) for o in found if isinstance(o, LogObservable)]


def lines_of(fmt: str, *lines: str) -> list[list[tuple[str, str]]]:
    return [pairs(record.observables) for record in read_records(list(lines), fmt)]


# ------------------------------------------------------------------------------ addresses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("198.51.100.23", (IP4, "198.51.100.23")),
        (" 198.51.100.23 ", (IP4, "198.51.100.23")),
        ("0.1.0.0", (IP4, "0.1.0.0")),
        ("255.255.255.255", (IP4, "255.255.255.255")),
        ("256.1.1.1", None),
        ("1.2.3", None),  # a version number
        ("1.2.3.4.5", None),
        ("010.0.0.1", None),  # octal to some parsers, decimal to others
        ("1.2.3.4/24", None),
        ("2001:db8::1", (IP6, "2001:db8::1")),
        ("2001:DB8:0:0:0:0:0:1", (IP6, "2001:DB8:0:0:0:0:0:1")),
        ("::1", (IP6, "::1")),
        ("[2001:db8::1]", (IP6, "2001:db8::1")),
        ("fe80::1%eth0", (IP6, "fe80::1")),
        ("64:ff9b::192.0.2.33", (IP6, "64:ff9b::192.0.2.33")),
        ("::ffff:192.0.2.9", (IP4, "192.0.2.9")),  # IPv4-mapped: the IPv4 address
        ("1:2:3:4:5:6:7:8:9", None),
        ("1:2:3:4:5:6:7", None),
        ("2001:db8::1::2", None),
        ("00:11:22:33:44:55", None),  # a MAC address
        ("12:34:56", None),  # a time
        ("2001:db8::12345", None),
        ("::ffff:999.0.0.1", None),
    ],
)
def test_ip(text: str, expected: tuple[str, str] | None) -> None:
    found = ip(text)
    assert (None if found is None else (found.kind, found.value)) == expected


def test_is_ipv6_counts_groups() -> None:
    assert is_ipv6("1:2:3:4:5:6:7:8")
    assert is_ipv6("1:2:3:4:5:6:7::")
    assert is_ipv6("::2:3:4:5:6:7:8")
    assert not is_ipv6("1:2:3:4:5:6:7:8::")
    assert is_ipv6("1:2:3:4:5:6:1.2.3.4")
    assert not is_ipv6("1:2:3:4:5:6:7:1.2.3.4")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("evil-update.net", (DOM, "evil-update.net")),
        ("CDN.Evil-Update.NET.", (DOM, "cdn.evil-update.net")),
        ("*.evil-update.net", (DOM, "evil-update.net")),
        ("_ldap._tcp.dc._msdcs.corp.local", (DOM, "_ldap._tcp.dc._msdcs.corp.local")),
        ("wpad", None),
        ("1.2.3.4", None),
        ("bad name.com", None),
        ("", None),
    ],
)
def test_typed_domain(text: str, expected: tuple[str, str] | None) -> None:
    found = domain(text)
    assert (None if found is None else (found.kind, found.value)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("evil-update.net:8080", (DOM, "evil-update.net")),
        ("198.51.100.23:443", (IP4, "198.51.100.23")),
        ("192.0.2.1#53", (IP4, "192.0.2.1")),
        ("[2001:db8::1]:443", (IP6, "2001:db8::1")),
        ("2001:db8::1", (IP6, "2001:db8::1")),
        ("-", None),
        ("localhost", None),
    ],
)
def test_host(text: str, expected: tuple[str, str] | None) -> None:
    found = host(text)
    assert (None if found is None else (found.kind, found.value)) == expected


def test_file_hash_types_by_length() -> None:
    assert file_hash(MD5_A) == LogObservable(MD5, MD5_A)
    assert file_hash(SHA256_A.upper()) == LogObservable(SHA256, SHA256_A.upper())
    assert file_hash("0" * 48) is None
    assert file_hash("g" * 32) is None


def test_email_in_header() -> None:
    assert email_in('"Alice" <alice@corp-mail.com>') == LogObservable(MAIL, "alice@corp-mail.com")
    assert email_in("<attacker@phish-mail.org>") == LogObservable(MAIL, "attacker@phish-mail.org")
    assert email_in("not an address") is None


def test_http_url() -> None:
    assert pairs(http_url("evil-update.net", "/a?b=c")) == [
        (URL, "http://evil-update.net/a?b=c"),
        (DOM, "evil-update.net"),
    ]
    assert pairs(http_url("evil-update.net:8080", "x")) == [
        (URL, "http://evil-update.net:8080/x"),
        (DOM, "evil-update.net"),
    ]
    assert pairs(http_url("", "http://phish.example.net/login")) == [
        (URL, "http://phish.example.net/login"),
        (DOM, "phish.example.net"),
    ]
    assert http_url("", "/relative") == ()
    assert http_url("-bad host-", "/x") == ()


# --------------------------------------------------------------------------- untyped


@pytest.mark.parametrize(
    ("text", "careful", "lenient"),
    [
        ("index.php", [], []),  # php is no TLD
        ("invoice.zip", [], [(DOM, "invoice.zip")]),  # .zip is both: a file when unsure
        ("install.sh", [], [(DOM, "install.sh")]),
        ("invoice[.]zip", [(DOM, "invoice.zip")], [(DOM, "invoice.zip")]),  # defanged: a name
        ("System.IO", [], [(DOM, "system.io")]),  # code
        ("com.example.app", [], [(DOM, "com.example.app")]),  # reverse DNS
        ("EVIL-UPDATE.NET", [(DOM, "evil-update.net")], [(DOM, "evil-update.net")]),
        ("sklep.evil.pl", [(DOM, "sklep.evil.pl")], [(DOM, "sklep.evil.pl")]),
        ("wpad.corp.local", [], []),  # no public TLD
        ("bad.onion", [(DOM, "bad.onion")], [(DOM, "bad.onion")]),
        ("1" * 32, [], [(MD5, "1" * 32)]),  # all digits: a number when unsure
        ("mailto:Bob@Evil-Mail.com", [(MAIL, "Bob@Evil-Mail.com")], [(MAIL, "Bob@Evil-Mail.com")]),
        ("root@localhost", [], []),
        ("a..b@evil-mail.com", [], []),
        (
            "hxxp://bad[.]site/x.exe",
            [(URL, "http://bad.site/x.exe"), (DOM, "bad.site")],
            [(URL, "http://bad.site/x.exe"), (DOM, "bad.site")],
        ),
        (
            "ftp://198.51.100.23/pub",
            [(URL, "ftp://198.51.100.23/pub"), (IP4, "198.51.100.23")],
            [(URL, "ftp://198.51.100.23/pub"), (IP4, "198.51.100.23")],
        ),
        (
            "evil-update.net/gate.php",  # no scheme: still a URL, as written
            [(URL, "evil-update.net/gate.php"), (DOM, "evil-update.net")],
            [(URL, "evil-update.net/gate.php"), (DOM, "evil-update.net")],
        ),
        ("evil-update.net/", [(DOM, "evil-update.net")], [(DOM, "evil-update.net")]),
        ("10.0.0.0/8", [], []),  # a block, not an address seen
        ("2001:db8::/32", [], []),
        ("http://index.php/x", [], [(URL, "http://index.php/x"), (DOM, "index.php")]),
        ("::", [], []),
        ("", [], []),
    ],
)
def test_value(text: str, careful: list[tuple[str, str]], lenient: list[tuple[str, str]]) -> None:
    assert pairs(value(text)) == careful
    assert pairs(value(text, careful=False)) == lenient


def test_words() -> None:
    line = (
        "Mar  1 10:15:30 fw01 kernel: DROP src=198.51.100.23 dst:evil-update.net "
        f'sha256={SHA256_A} "see hxxp://bad[.]site/x." (mail ops@corp-mail.com), v1.2.3'
    )
    assert pairs(words(line)) == [
        (IP4, "198.51.100.23"),
        (DOM, "evil-update.net"),
        (SHA256, SHA256_A),
        (URL, "http://bad.site/x"),
        (DOM, "bad.site"),
        (MAIL, "ops@corp-mail.com"),
    ]


# ------------------------------------------------------------------------------ times


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (times.iso, "2024-03-01T10:15:30Z", "2024-03-01T10:15:30Z"),
        (times.iso, "2024-03-01T10:15:30.123456+0000", "2024-03-01T10:15:30.123456Z"),
        (times.iso, "2024-03-01T11:15:30.5+01:00", "2024-03-01T10:15:30.5Z"),
        (times.iso, "2024-03-01 05:15:30-05", "2024-03-01T10:15:30Z"),
        (times.iso, "2024-03-01 10:15:30 UTC", "2024-03-01T10:15:30Z"),
        (times.iso, "2024-03-01T10:15:30.123456789Z", "2024-03-01T10:15:30.123456Z"),
        (times.iso, "2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"),  # leap second
        (times.iso, "2024-03-01T10:15", "2024-03-01T10:15:00Z"),
        (times.epoch_text, "1709288130.123456", "2024-03-01T10:15:30.123456Z"),
        (times.epoch_text, "1709288130", "2024-03-01T10:15:30Z"),
        (times.epoch_text, "1709288130123", "2024-03-01T10:15:30.123Z"),
        (times.epoch_text, "1709288130123456", "2024-03-01T10:15:30.123456Z"),
        (times.epoch_text, "1709288130123456789", "2024-03-01T10:15:30.123456Z"),
        (times.apache, "01/Mar/2024:11:15:30 +0100", "2024-03-01T10:15:30Z"),
        (times.apache, "1/Mar/2024:10:15:30", "2024-03-01T10:15:30Z"),
        (times.bind, "01-Mar-2024 10:15:30.123", "2024-03-01T10:15:30.123Z"),
        (times.windows, "3/1/2024 10:15:30 AM", "2024-03-01T10:15:30Z"),
        (times.windows, "3/1/2024 12:05:00 AM", "2024-03-01T00:05:00Z"),
        (times.windows, "3/1/2024 12:05:00 PM", "2024-03-01T12:05:00Z"),
        (times.windows, "25/12/2024 22:00:00", "2024-12-25T22:00:00Z"),  # day first
        (times.any_text, "[01/Mar/2024:10:15:30 +0000]", "2024-03-01T10:15:30Z"),
        (times.any_text, "1709288130", "2024-03-01T10:15:30Z"),
    ],
)
def test_times(parse: object, text: str, expected: str) -> None:
    assert callable(parse)
    assert parse(text) == ts(expected)


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (times.iso, "2024-02-30T10:15:30Z"),
        (times.iso, "2024-03-01T24:00:00Z"),
        (times.iso, "2024-03-01T10:15:30+2400"),
        (times.iso, "2024-W09-5"),
        (times.iso, "Mar  1 10:15:30"),
        (times.epoch_text, "12.5.6"),
        (times.epoch_text, "-5"),
        (times.apache, "01/Foo/2024:10:15:30 +0000"),
        (times.windows, "3/1/2024 13:05:00 PM"),
        (times.any_text, "yesterday"),
        (times.any_text, ""),
    ],
)
def test_times_refuse(parse: object, text: str) -> None:
    assert callable(parse)
    assert parse(text) is None


def test_epoch_number() -> None:
    assert times.epoch_number(1709288130.123456) == ts("2024-03-01T10:15:30.123456Z")
    assert times.epoch_number(1709288130123) == ts("2024-03-01T10:15:30.123Z")
    assert times.epoch_number(True) is None
    assert times.epoch_number(float("nan")) is None
    assert times.epoch_number(-1) is None
    assert times.epoch_number("1709288130") is None


# ----------------------------------------------------------------------------- formats


def test_plain_comments_and_defanged() -> None:
    assert lines_of(
        "plain",
        "# a comment with 198.51.100.1",
        "198.51.100.23 # C2 since 2024",
        "evil-update[.]net",
        "attacker[at]phish-mail[.]org",
        '"203.0.113.9",',
        "",
    ) == [
        [],
        [(IP4, "198.51.100.23")],
        [(DOM, "evil-update.net")],
        [(MAIL, "attacker@phish-mail.org")],
        [(IP4, "203.0.113.9")],
        [],
    ]


def test_csv_commented_header_semicolons_quotes_and_epoch() -> None:
    records = list(
        read_records(
            [
                "# URLhaus export",
                "# id;dateadded;url;threat",
                '1;1709288130;"http://evil-update.net/a;b";malware_download',
                '2;1709288131;"x, y and 198.51.100.23";-',
            ],
            "auto",
        )
    )
    assert [pairs(r.observables) for r in records] == [
        [],
        [],
        [(URL, "http://evil-update.net/a;b"), (DOM, "evil-update.net")],
        [(IP4, "198.51.100.23")],
    ]
    assert [r.timestamp for r in records] == [
        None,
        None,
        ts("2024-03-01T10:15:30Z"),
        ts("2024-03-01T10:15:31Z"),
    ]


def test_csv_without_header() -> None:
    records = list(read_records(["198.51.100.23,evil-update.net", "203.0.113.9,"], "csv"))
    assert [pairs(r.observables) for r in records] == [
        [(IP4, "198.51.100.23"), (DOM, "evil-update.net")],
        [(IP4, "203.0.113.9")],
    ]
    assert [r.timestamp for r in records] == [None, None]


def test_jsonl_walks_nested_values_in_order_but_not_keys() -> None:
    line = (
        '{"evil-update.net": 1, "a": [{"b": ["198.51.100.23", {"c": "login-micr0soft.com"}]}],'
        ' "n": 198, "t": "text with 203.0.113.9 inside"}'
    )
    assert lines_of("jsonl", line, '["198.51.100.24"]', '"198.51.100.25"', "null") == [
        [(IP4, "198.51.100.23"), (DOM, "login-micr0soft.com"), (IP4, "203.0.113.9")],
        [(IP4, "198.51.100.24")],
        [(IP4, "198.51.100.25")],
        [],
    ]


def test_jsonl_deep_nesting_does_not_recurse() -> None:
    deep = "[" * 1000 + '"198.51.100.23"' + "]" * 1000
    assert lines_of("jsonl", deep) == [[(IP4, "198.51.100.23")]]


def test_jsonl_timestamp_keys() -> None:
    stamps = [
        r.timestamp
        for r in read_records(
            [
                '{"eventTime": "2024-03-01T10:15:30Z"}',
                '{"time": 1709288130123}',
                '{"ts": "1709288130.5"}',
                '{"time": "soon", "timestamp": "2024-03-01T10:15:30Z"}',
                '{"created": "2024-03-01T10:15:30Z"}',
            ],
            "jsonl",
        )
    ]
    assert stamps == [
        ts("2024-03-01T10:15:30Z"),
        ts("2024-03-01T10:15:30.123Z"),
        ts("2024-03-01T10:15:30.5Z"),
        ts("2024-03-01T10:15:30Z"),
        None,
    ]


def test_zeek_headers_change_midstream_and_data_before_headers() -> None:
    records = list(
        read_records(
            [
                "1709288130.0\t198.51.100.1\tgarbage",  # no header yet: read as text
                "#separator \\x09",
                "#set_separator\t,",
                "#empty_field\t(empty)",
                "#unset_field\t-",
                "#fields\tts\tid.orig_h\tquery",
                "#types\ttime\taddr\tstring",
                "1709288130.0\t10.1.2.3\tevil-update.net",
                "#fields\tts\tserver_name\tid.resp_h",
                "#types\ttime\tstring\taddr",
                "1709288131.0\tlogin-micr0soft.com\t198.51.100.23",
                "1709288132.0\t-\t(empty)",
                "1709288133.0",  # a short row
            ],
            "zeek",
        )
    )
    assert [pairs(r.observables) for r in records if not r.line.startswith("#")] == [
        [(IP4, "198.51.100.1")],
        [(IP4, "10.1.2.3"), (DOM, "evil-update.net")],
        [(DOM, "login-micr0soft.com"), (IP4, "198.51.100.23")],
        [],
        [],
    ]
    assert records[-1].timestamp == ts("2024-03-01T10:15:33Z")


def test_zeek_smtp_and_notice_fields() -> None:
    records = list(
        read_records(
            [
                "#separator \\x09",
                "#fields\tts\tmailfrom\trcptto\tmsg\tsub\tsrc\tnote",
                "#types\ttime\tstring\tset[string]\tstring\tstring\taddr\tenum",
                "1709288130.0\t<attacker@phish-mail.org>\tbob@corp-mail.com,carol@corp-mail.com"
                "\tSSH brute force from 198.51.100.23\tevil-update.net\t198.51.100.23"
                "\tSSH::Password_Guessing",
            ],
            "auto",
        )
    )
    assert pairs(records[-1].observables) == [
        (MAIL, "attacker@phish-mail.org"),
        (MAIL, "bob@corp-mail.com"),
        (MAIL, "carol@corp-mail.com"),
        (IP4, "198.51.100.23"),
        (DOM, "evil-update.net"),
    ]


def test_suricata_dns_v1_alert_parties_and_text_fallback() -> None:
    assert lines_of(
        "suricata",
        '{"event_type":"dns","src_ip":"10.1.2.4","dest_ip":"203.0.113.80","dns":{"type":"answer",'
        '"rrname":"www.evil-update.net","rrtype":"CNAME","rdata":"evil-update.net"}}',
        '{"event_type":"alert","src_ip":"10.1.2.3","alert":{"source":{"ip":"10.1.2.3"},'
        '"target":{"ip":"2001:db8:bad::66"}}}',
        "not json 198.51.100.23",
        '{"event_type":"http","http":{"hostname":7,"url":"/x","http_refer":"-"}}',
    ) == [
        [
            (IP4, "10.1.2.4"),
            (IP4, "203.0.113.80"),
            (DOM, "www.evil-update.net"),
            (DOM, "evil-update.net"),
        ],
        [(IP4, "10.1.2.3"), (IP6, "2001:db8:bad::66")],
        [(IP4, "198.51.100.23")],
        [],
    ]


def test_access_escaped_quotes_and_https_proxy_target() -> None:
    line = (
        '203.0.113.9 - - [01/Mar/2024:10:15:30 +0000] "GET https://evil-update.net/a HTTP/1.1" '
        '200 1 "-" "agent \\"quoted\\" 198.51.100.1"'
    )
    assert lines_of("access", line) == [
        [(IP4, "203.0.113.9"), (URL, "https://evil-update.net/a"), (DOM, "evil-update.net")]
    ]


def test_dns_unbound_and_dnsmasq_extra() -> None:
    records = list(
        read_records(
            [
                "[1709288130] unbound[1234:0] info: 192.168.1.20 evil-update.net. A IN",
                "Mar  1 10:15:30 dnsmasq[1234]: 7 192.168.1.21/51234 query[A] "
                "login-micr0soft.com from 192.168.1.21",
                "Mar  1 10:15:30 dnsmasq[1234]: 7 192.168.1.21/51234 reply "
                "login-micr0soft.com is 198.51.100.23",
            ],
            "dns",
        )
    )
    assert [pairs(r.observables) for r in records] == [
        [(IP4, "192.168.1.20"), (DOM, "evil-update.net")],
        [(DOM, "login-micr0soft.com"), (IP4, "192.168.1.21")],
        [(DOM, "login-micr0soft.com"), (IP4, "198.51.100.23")],
    ]
    assert [r.timestamp for r in records] == [ts("2024-03-01T10:15:30Z"), None, None]


def test_windows_name() -> None:
    assert windows_name("(3)www(10)evil-update(3)net(0)") == "www.evil-update.net"


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (["1709288130.0\t10.1.2.3\t198.51.100.23"] * 3, "csv"),  # zeek-cut output
        (['{"ts": 1709288130.1, "uid": "C1", "id.orig_h": "10.1.2.3"}'], "zeek"),
        (['{"timestamp": "2024-03-01T10:15:30Z", "event_type": "flow"}'], "suricata"),
        (['{"a": 1}', "not json", '{"b": 2}'], "jsonl"),
        (["Mar  1 10:15:30 host sshd[1]: Failed password from 198.51.100.23"] * 3, "plain"),
        (["# list", "evil-update.net", "198.51.100.23"], "plain"),
        (["a,b", "c,d"], "csv"),
        (["a,b"], "plain"),  # one row says nothing about columns
        (
            [
                "Mar  1 10:15:30 dnsmasq[1]: query[A] evil-update.net from 10.1.2.3",
                "Mar  1 10:15:30 dnsmasq[1]: started, version 2.89",
            ],
            "dns",
        ),
        (["DNS Server log file creation at 3/1/2024 10:15:00 AM"], "dns"),
    ],
)
def test_detect_format(head: list[str], fmt: str) -> None:
    assert detect_format(head) == fmt


def test_fast_constructors_make_the_dataclasses() -> None:
    from dataclasses import FrozenInstanceError

    from shieldwall.domain.logs import LogRecord
    from shieldwall.domain.logs.model import observable, record

    made = record("a.log", 3, "x", (observable(IP4, "198.51.100.23"),), 7)
    assert made == LogRecord("a.log", 3, "x", (LogObservable(IP4, "198.51.100.23"),), 7)
    assert hash(observable(DOM, "evil-update.net")) == hash(LogObservable(DOM, "evil-update.net"))
    with pytest.raises(FrozenInstanceError):
        made.line = "y"  # type: ignore[misc]
