"""The feed and object pages: members list what they may read, newest first, filtered by
type, TLP, text, the submitter's sector and country, and time; paging with the stateless
cursor both ways; htmx gets the results block only; an object scoped away from a member is
absent from its feed and a 404 page; the object page shows the pattern, TLP, score,
sightings and ATT&CK techniques; the sighting form records through the service and refuses
a post without the CSRF token."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance
from ui_support import UiCommunity, csrf

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.scope import make_scope
from shieldwall.domain.sightings import NewSighting
from shieldwall.domain.tlp import Tlp
from shieldwall.services import sightings, submission

DAY = 86_400_000_000
HTMX = {"HX-Request": "true"}
STAMP = "2023-11-01T00:00:00.000Z"


def indicator(value: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    """A valid STIX 2.1 indicator for an IPv4 address."""
    body: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
    }
    if name is not None:
        body["name"] = name
    body.update(extra)
    return body


def malware(name: str) -> dict[str, Any]:
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "name": name,
        "is_family": True,
    }


def share(
    community: UiCommunity,
    handle: str,
    obj: dict[str, Any],
    tlp: Tlp = Tlp.GREEN,
    attribution: Attribution = Attribution.ATTRIBUTED,
    **scope: list[str],
) -> str:
    """Submit ``obj`` as ``handle`` through the service the REST API uses."""
    assert validate_instance(obj, ValidationOptions(version="2.1")).is_valid, obj
    status = submission.submit(
        community.hub,
        community.orgs[handle],
        "shared",
        [obj],
        tlp,
        make_scope(**scope) if scope else None,
        attribution,
    )
    assert status.failure_count == 0, status.details
    return str(obj["id"])


def names_in(page: str) -> list[str]:
    """The titles of the feed's rows, in order."""
    body = page.split('id="results"', 1)[1]
    return [
        html.unescape(t) for t in re.findall(r'<a href="/ui/objects/[^"]+" title="([^"]*)"', body)
    ]


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


def test_feed_lists_what_the_member_may_read_newest_first(community: UiCommunity) -> None:
    share(community, "us-bank", indicator("203.0.113.1", "first shared"))
    share(community, "gb-bank", malware("second shared"))
    anonymous = share(
        community, "law", indicator("203.0.113.3", "third shared"), Tlp.AMBER, Attribution.ANONYMOUS
    )
    page = community.client("us-bank").get("/ui/feed")
    assert page.status_code == 200
    assert names_in(page.text) == ["third shared", "second shared", "first shared"]
    assert "TLP:AMBER" in page.text and "TLP:GREEN" in page.text
    assert "the whole community" in page.text
    row = page.text.split(f'/ui/objects/{anonymous}"', 1)[1].split("</tr>", 1)[0]
    assert "anonymous member" in row and "US Law Firm" not in row
    assert "GB Bank" in page.text  # the attributed malware's creator


def test_filters_type_tlp_text_and_time(community: UiCommunity) -> None:
    hub = community.hub
    share(community, "us-bank", indicator("198.51.100.7", "old green indicator"))
    hub.clock.value += 10 * DAY  # type: ignore[attr-defined]
    share(community, "us-bank", malware("amber malware"), Tlp.AMBER)
    hub.clock.value += 2 * DAY  # type: ignore[attr-defined]
    share(community, "us-bank", indicator("203.0.113.99", "fresh amber indicator"), Tlp.AMBER)
    client = community.client("gb-bank")

    def shown(query: str) -> list[str]:
        response = client.get(f"/ui/feed?{query}")
        assert response.status_code == 200, response.text
        return names_in(response.text)

    assert shown("type=indicator") == ["fresh amber indicator", "old green indicator"]
    assert shown("type=malware") == ["amber malware"]
    assert shown("tlp=green") == ["old green indicator"]
    assert shown("tlp=amber&tlp=green") == [
        "fresh amber indicator",
        "amber malware",
        "old green indicator",
    ]
    assert shown("q=203.0.113.99") == ["fresh amber indicator"]
    assert shown("q=MALWARE") == ["amber malware"]
    assert shown("since=24h") == ["fresh amber indicator"]
    assert shown("since=7d") == ["fresh amber indicator", "amber malware"]
    assert shown("since=30d") == ["fresh amber indicator", "amber malware", "old green indicator"]
    assert shown("since=7d&type=indicator") == ["fresh amber indicator"]
    assert shown("since_date=2000-01-01&tlp=green") == ["old green indicator"]
    assert shown("since_date=2100-01-01") == []
    # the filters are shown back as chosen
    page = client.get("/ui/feed?type=malware&tlp=amber&q=mal&since=7d").text
    assert '<option value="malware" selected>' in page
    assert 'id="f-tlp-amber" name="tlp" value="amber" checked' in page
    assert 'value="mal"' in page
    assert '<option value="7d" selected>' in page
    # filters that do not parse say why, keeping the input
    response = client.get("/ui/feed?sector=banking&q=keep+me")
    assert response.status_code == 400
    assert 'role="alert"' in response.text and "unknown sector" in response.text
    assert 'value="keep me"' in response.text
    assert client.get("/ui/feed?country=XX").status_code == 400
    assert client.get("/ui/feed?since=1y").status_code == 400
    assert client.get("/ui/feed?since_date=yesterday").status_code == 400
    assert client.get("/ui/feed?type=Not%20A%20Type").status_code == 400
    assert client.get("/ui/feed?next=forged").status_code == 400
    missing = client.get("/ui/feed?collection=nowhere")
    assert missing.status_code == 404 and "no collection" in missing.text


def test_filters_by_submitter_sector_and_country_use_attributed_objects_only(
    community: UiCommunity,
) -> None:
    share(community, "us-bank", indicator("192.0.2.1", "from the US bank"))
    share(community, "gb-bank", indicator("192.0.2.2", "from the GB bank"))
    share(community, "law", indicator("192.0.2.3", "from the law firm"))
    share(
        community,
        "us-bank",
        indicator("192.0.2.4", "anonymous bank"),
        attribution=Attribution.ANONYMOUS,
    )
    client = community.client("law")

    def shown(query: str) -> list[str]:
        return names_in(client.get(f"/ui/feed?{query}").text)

    assert shown("sector=financial") == ["from the GB bank", "from the US bank"]
    assert shown("sector=legal") == ["from the law firm"]
    assert shown("country=GB") == ["from the GB bank"]
    assert shown("country=us") == ["from the law firm", "from the US bank"]
    assert shown("sector=financial&country=US") == ["from the US bank"]
    assert shown("sector=insurance") == []
    assert "anonymous bank" in shown("")
    page = client.get("/ui/feed")
    assert "Only attributed objects have a known submitter" in page.text


def test_paging_older_and_newer_with_the_cursor(community: UiCommunity) -> None:
    for n in range(7):
        share(community, "us-bank", indicator(f"198.51.100.{n}", f"indicator {n}"))
    client = community.client("gb-bank")
    first = client.get("/ui/feed?type=indicator&limit=3&since=30d")
    assert names_in(first.text) == ["indicator 6", "indicator 5", "indicator 4"]
    assert link(first.text, "prev") is None
    older = link(first.text, "next")
    assert older is not None and "type=indicator" in older and "at=" in older
    second = client.get(older)
    assert names_in(second.text) == ["indicator 3", "indicator 2", "indicator 1"]
    third_url = link(second.text, "next")
    assert third_url is not None
    third = client.get(third_url)
    assert names_in(third.text) == ["indicator 0"]
    assert link(third.text, "next") is None
    newer = link(third.text, "prev")
    assert newer is not None
    back = client.get(newer)
    assert names_in(back.text) == ["indicator 3", "indicator 2", "indicator 1"]
    newest = client.get(link(back.text, "prev") or "")
    assert names_in(newest.text) == ["indicator 6", "indicator 5", "indicator 4"]
    assert link(newest.text, "prev") is None
    # a token is bound to its filters
    assert client.get(older.replace("type=indicator", "type=malware")).status_code == 400


def test_htmx_gets_only_the_results_block(community: UiCommunity) -> None:
    share(community, "us-bank", indicator("198.51.100.20", "swapped in"))
    client = community.client("gb-bank")
    fragment = client.get("/ui/feed?q=swapped", headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="results"')
    assert "<html" not in fragment.text and "<h1" not in fragment.text
    assert 'name="q"' not in fragment.text  # the form stays where it is
    assert names_in(fragment.text) == ["swapped in"]
    # restoring a page from history wants the whole page
    restored = client.get(
        "/ui/feed?q=swapped", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restored.text
    page = client.get("/ui/feed").text
    assert 'hx-get="/ui/feed"' in page and 'hx-target="#results"' in page
    assert 'hx-push-url="true"' in page


def test_scoped_objects_are_absent_and_404_for_others(community: UiCommunity) -> None:
    gb_identity = community.orgs["gb-bank"].identity_id
    amber = share(
        community,
        "law",
        indicator("192.0.2.50", "for GB Bank only"),
        Tlp.AMBER,
        organizations=[gb_identity],
    )
    red = share(
        community,
        "law",
        indicator("192.0.2.51", "red to GB Bank"),
        Tlp.RED,
        organizations=[gb_identity],
    )
    everyone = share(community, "law", indicator("192.0.2.52", "for everyone"))
    report = share(
        community,
        "law",
        {
            "type": "report",
            "spec_version": "2.1",
            "id": f"report--{uuid.uuid4()}",
            "created": STAMP,
            "modified": STAMP,
            "name": "Law firm report",
            "published": STAMP,
            "object_refs": [everyone, amber, red],
        },
    )
    us_bank = community.client("us-bank")
    # the report holds, for US Bank, only what US Bank may read
    holds = us_bank.get(f"/ui/objects/{report}").text.split('id="refers-title"', 1)[1]
    holds = holds.split("</section>", 1)[0]
    assert f'href="/ui/objects/{everyone}"' in holds
    assert amber not in holds and red not in holds and "GB Bank only" not in holds
    assert names_in(us_bank.get("/ui/feed").text) == ["Law firm report", "for everyone"]
    assert names_in(us_bank.get("/ui/feed?q=192.0.2.5").text) == ["for everyone"]
    assert us_bank.get(f"/ui/objects/{amber}").status_code == 404
    assert us_bank.get(f"/ui/objects/{red}").status_code == 404
    assert "GB Bank only" not in us_bank.get(f"/ui/objects/{red}").text
    gb_bank = community.client("gb-bank")
    assert names_in(gb_bank.get("/ui/feed").text) == [
        "Law firm report",
        "for everyone",
        "red to GB Bank",
        "for GB Bank only",
    ]
    page = gb_bank.get(f"/ui/objects/{amber}")
    assert page.status_code == 200 and "Only GB Bank." in page.text
    assert gb_bank.get(f"/ui/objects/{red}").status_code == 200
    # a sighting of what one may not read is refused as not found
    token = csrf(us_bank)
    refused = us_bank.post(f"/ui/objects/{red}/sightings", data={"csrf_token": token, "count": "1"})
    assert refused.status_code == 404
    assert sightings.summary(community.hub, community.orgs["gb-bank"], red).reports == 0


def test_object_page_shows_pattern_tlp_score_sightings_and_attack(
    community: UiCommunity,
) -> None:
    target = share(
        community,
        "us-bank",
        indicator(
            "203.0.113.77",
            "C2 of the winter campaign",
            description="Beacons every 60 seconds.\n\nSeen at two banks.",
            confidence=80,
            labels=["malicious-activity"],
            kill_chain_phases=[
                {"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}
            ],
            external_references=[
                {"source_name": "mitre-attack", "external_id": "T1071.001"},
                {"source_name": "blog", "url": "https://intel.example/winter"},
                {"source_name": "bad", "url": "javascript:alert(1)"},
            ],
        ),
        Tlp.AMBER,
    )
    pattern = share(
        community,
        "us-bank",
        {
            "type": "attack-pattern",
            "spec_version": "2.1",
            "id": f"attack-pattern--{uuid.uuid4()}",
            "created": STAMP,
            "modified": STAMP,
            "name": "Exploit Public-Facing Application",
            "external_references": [{"source_name": "mitre-attack", "external_id": "T1190"}],
        },
    )
    share(
        community,
        "us-bank",
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": f"relationship--{uuid.uuid4()}",
            "created": STAMP,
            "modified": STAMP,
            "relationship_type": "indicates",
            "source_ref": target,
            "target_ref": pattern,
        },
    )
    related = share(community, "gb-bank", indicator("203.0.113.77", "same address elsewhere"))
    sightings.record(community.hub, community.orgs["gb-bank"], [NewSighting(target, count=4)])
    page = community.client("gb-bank").get(f"/ui/objects/{target}")
    assert page.status_code == 200
    text = page.text
    assert "<pre><code>[ipv4-addr:value = &#39;203.0.113.77&#39;]</code></pre>" in text
    assert "TLP:AMBER" in text and "on a need-to-know basis" in text
    assert "Shared by</dt><dd>US Bank" in text
    assert "Score and standing" in text and "Live: matched" in text
    assert "Times seen</dt><dd>4" in text and "GB Bank" in text
    assert "T1071.001" in text and "Web Protocols" in text  # named from the ATT&CK data
    assert f'href="/ui/objects/{pattern}"' in text and "T1190" in text
    relationships = text.split('id="relationships-title"', 1)[1].split("</section>", 1)[0]
    assert "this <strong>indicates</strong>" in relationships
    assert "Exploit Public-Facing Application" in relationships
    assert 'href="https://intel.example/winter" rel="noopener noreferrer"' in text
    assert 'href="javascript:' not in text and "javascript:alert(1)" in text
    assert f'href="/ui/objects/{related}"' in text  # shares the address
    assert "command-and-control" in text and "malicious-activity" in text
    assert "<details>" in text and "&#34;pattern&#34;" in text  # raw JSON, escaped
    assert "Versions</dt><dd>1 you may read" in text


def test_pages_escape_input_need_a_session_and_404_unknown_ids(community: UiCommunity) -> None:
    target = share(community, "us-bank", indicator("192.0.2.66", "<script>alert(1)</script>"))
    reader = community.client("gb-bank")
    page = reader.get(f"/ui/objects/{target}").text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in reader.get("/ui/feed").text
    # pages need a session; unknown ids are 404 pages
    anonymous: TestClient = community.anonymous()
    response = anonymous.get("/ui/feed?type=indicator", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/sign-in?next=/ui/feed")
    assert reader.get(f"/ui/objects/indicator--{uuid.uuid4()}").status_code == 404
    assert reader.get("/ui/objects/not-an-id").status_code == 404


def test_sighting_form_records_through_the_service(community: UiCommunity) -> None:
    target = share(community, "us-bank", indicator("198.51.100.99", "seen in our logs"))
    client = community.client("gb-bank")
    token = csrf(client)
    response = client.post(
        f"/ui/objects/{target}/sightings",
        data={"csrf_token": token, "count": "3"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/objects/{target}"
    figures = sightings.summary(community.hub, community.orgs["us-bank"], target)
    assert figures.reports == 1 and figures.observations == 3 and figures.named == ("GB Bank",)
    shown = client.get(f"/ui/objects/{target}")
    assert "Your sighting was recorded as GB Bank." in shown.text
    # anonymous and false-positive reports
    client.post(
        f"/ui/objects/{target}/sightings",
        data={"csrf_token": token, "count": "1", "anonymous": "1", "false_positive": "1"},
    )
    figures = sightings.summary(community.hub, community.orgs["us-bank"], target)
    assert figures.reports == 2 and figures.false_positives == 1
    # without the CSRF token nothing is recorded
    refused = client.post(f"/ui/objects/{target}/sightings", data={"count": "5"})
    assert refused.status_code == 403
    assert sightings.summary(community.hub, community.orgs["us-bank"], target).reports == 2
    # a bad count says why and keeps the input
    bad = client.post(
        f"/ui/objects/{target}/sightings",
        data={"csrf_token": token, "count": "0", "anonymous": "1"},
    )
    assert bad.status_code == 400
    assert 'role="alert"' in bad.text and "count must be" in bad.text
    assert 'value="0"' in bad.text and 'name="anonymous" value="1" checked' in bad.text
    assert sightings.summary(community.hub, community.orgs["us-bank"], target).reports == 2
