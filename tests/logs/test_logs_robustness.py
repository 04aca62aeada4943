"""Arbitrary text never makes a log reader raise, in any format, and records stay well-formed."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logs_support import SAMPLES

from shieldwall.domain.logs import FORMATS, KINDS, LogRecord, detect_format, read_records
from shieldwall.domain.logs.reader import PARSERS

# pieces of real log lines, so that generated lines get deep into every parser
FRAGMENTS = [
    "#separator \\x09", "#fields\tts\tid.orig_h\tquery\tanswers\thost\turi", "#types\ttime\taddr",
    "#set_separator\t,", "#unset_field\t-", "(empty)", "\t", ",", ";", "|", '"', "{", "}", "[",
    "]", ":", '{"ts":', '"event_type":"dns"', '"dns":{"rrname":', '"grouped":{"A":[',
    '"http":{"hostname":', '"url":', '"timestamp":"2024-03-01T10:15:30.1+0000"', "1709288130.5",
    "198.51.100.23", "2001:db8::1", "::ffff:", "evil-update.net", "hxxp://", "[.]", "(dot)",
    "http://", "@", "#53", "%eth0", "/path?q=1", "client @0x7f 10.1.2.3#53 (a.com): query: ",
    "query[A] ", " from ", " is ", "reply ", "(7)example(3)com(0)", "UDP Rcv ", " PM ",
    '[01/Mar/2024:10:15:30 +0000] "GET ', '" 200 1 "', "01-Mar-2024 10:15:30.1 ", "info: ",
    "a" * 32, "0" * 40, "f" * 64, "9" * 128, "\x00", "\ud800", "é", "ﬁ", "٣", "\u2028",
]  # fmt: skip

lines = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(FRAGMENTS)), max_size=14).map(
    "".join
)


def check(records: list[LogRecord], count: int) -> None:
    assert [record.line_no for record in records] == list(range(1, count + 1))
    for record in records:
        assert len(set(record.observables)) == len(record.observables)
        for observable in record.observables:
            assert observable.kind in KINDS
            assert observable.value
            assert observable.value == observable.value.strip()
        assert record.timestamp is None or isinstance(record.timestamp, int)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lines, max_size=8), st.sampled_from(FORMATS))
def test_arbitrary_lines_never_raise(batch: list[str], fmt: str) -> None:
    check(list(read_records(batch, fmt)), len(batch))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lines, min_size=1, max_size=6), st.sampled_from(sorted(PARSERS)))
def test_parsers_themselves_never_raise(batch: list[str], fmt: str) -> None:
    """The reader's safety net (a failing line has no observables) is never needed."""
    parser = PARSERS[fmt](batch)
    for line in batch:
        observables, stamp = parser.parse(line)
        assert all(observable.kind in KINDS for observable in observables)
        assert stamp is None or isinstance(stamp, int)


@settings(max_examples=200, deadline=None)
@given(st.lists(lines, max_size=25))
def test_detection_always_names_a_format(head: list[str]) -> None:
    assert detect_format(head) in FORMATS[1:]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(path.name for path in SAMPLES.iterdir())), st.data())
def test_mangled_samples_never_raise(name: str, data: st.DataObject) -> None:
    """Real lines cut short, spliced or doubled, read in their own and in every format."""
    real = (SAMPLES / name).read_text(encoding="utf-8").splitlines()
    picked = data.draw(st.lists(st.sampled_from(real), min_size=1, max_size=10))
    cuts = data.draw(st.lists(st.integers(0, 400), min_size=len(picked), max_size=len(picked)))
    mangled = [line[:cut] + line[cut // 2 :] for line, cut in zip(picked, cuts, strict=True)]
    for fmt in FORMATS:
        check(list(read_records(mangled, fmt)), len(mangled))
