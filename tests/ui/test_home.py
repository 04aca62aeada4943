"""The dashboard: figures (new intelligence, live indicators, unacknowledged alerts,
sightings), the charts and the newest objects and alerts, all counted over what the signed-in
organisation may read; bounded reads say "N+" instead of counting everything."""

from __future__ import annotations

import re
import uuid
from typing import Any

from test_feed import DAY, indicator, malware, share
from ui_support import UiCommunity

from shieldwall.domain.alerts import AlertContent, IndicatorSpec
from shieldwall.domain.sightings import NewSighting
from shieldwall.domain.tlp import Tlp
from shieldwall.services import alerts, sightings
from shieldwall.web.ui import home


def figure(page: str, label: str) -> str:
    """The value shown above ``label`` among the dashboard's figures."""
    found = re.search(
        r'<span class="value">([^<]*)</span>\s*<span class="label">' + re.escape(label), page
    )
    assert found, f"no figure {label!r}"
    return found.group(1)


def bars(page: str, chart: str) -> dict[str, int]:
    """The (day → count) table behind a chart, as screen readers get it."""
    table = page.split(f"<caption>{chart}", 1)[1].split("</table>", 1)[0]
    return {d: int(n) for d, n in re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", table)}


def test_dashboard_counts_charts_and_lists(community: UiCommunity) -> None:
    hub = community.hub
    old = share(community, "gb-bank", indicator("198.51.100.1", "older than a week"))
    hub.clock.value += 10 * DAY  # type: ignore[attr-defined]
    fresh = share(community, "gb-bank", indicator("198.51.100.2", "fresh indicator"))
    share(community, "law", malware("fresh malware"), Tlp.AMBER)
    hidden = share(
        community,
        "law",
        indicator("198.51.100.3", "for GB Bank only"),
        Tlp.AMBER,
        organizations=[community.orgs["gb-bank"].identity_id],
    )
    us_bank = community.orgs["us-bank"]
    sightings.record(hub, us_bank, [NewSighting(fresh, count=2), NewSighting(old)])
    sightings.record(hub, community.orgs["gb-bank"], [NewSighting(hidden)])
    alerts.send_notification(
        hub,
        community.orgs["agency"],
        "US Bank",
        AlertContent(
            title="Your VPN gateway talks to a C2",
            description="Act now.",
            indicators=(IndicatorSpec("185.220.101.45"),),
        ),
    )
    page = community.client("us-bank").get("/ui/")
    assert page.status_code == 200
    text = page.text
    # the indicator and malware shared, the alert's report and indicator; not the hidden one
    assert figure(text, "new intelligence in the last 7 days") == "4"
    assert figure(text, "indicators live now") == "3"  # two shared, one from the alert
    assert figure(text, "alerts in your inbox not yet acknowledged") == "1"
    assert figure(text, "sightings in the last 30 days") == "2"  # not GB Bank's of hidden
    today = home.day_of(hub.clock.now())[5:]
    assert bars(text, "Sightings reported per day")[today] == 2
    assert sum(bars(text, "Sightings reported per day").values()) == 2
    assert len(bars(text, "Sightings reported per day")) == 30
    per_day = bars(text, "New intelligence per day")
    assert per_day[today] == 4 and sum(per_day.values()) == 5  # and the older indicator
    assert text.count('class="bar"') == 60
    newest = text.split('id="newest-title"', 1)[1].split("</section>", 1)[0]
    assert "fresh indicator" in newest and "fresh malware" in newest
    assert "for GB Bank only" not in text
    assert newest.index("fresh malware") < newest.index("fresh indicator")
    assert f'href="/ui/objects/{fresh}"' in newest and "GB Bank" in newest
    assert "Your VPN gateway talks to a C2" in text and "not acknowledged" in text
    # GB Bank counts what it may read
    gb = community.client("gb-bank").get("/ui/").text
    assert figure(gb, "new intelligence in the last 7 days") == "3"
    assert figure(gb, "alerts in your inbox not yet acknowledged") == "0"
    assert "No alerts for you." in gb


def test_bounded_reads_say_at_least(community: UiCommunity, monkeypatch: Any) -> None:
    for n in range(4):
        share(community, "gb-bank", indicator(f"192.0.2.{n}", f"indicator {n}"))
    monkeypatch.setattr(home, "CAP", 2)
    page = community.client("us-bank").get("/ui/").text
    assert figure(page, "new intelligence in the last 7 days") == "2+"
    assert "there are at least that many" in page
    assert "Counted only in part" in page
    # a quiet hub: the newest objects of any time still show
    assert home.Figure(1234, capped=True).text == "1,234+"


def test_empty_dashboard_and_sign_in(community: UiCommunity) -> None:
    assert community.anonymous().get("/ui/", follow_redirects=False).status_code == 303
    page = community.client("law").get("/ui/").text
    assert figure(page, "new intelligence in the last 7 days") == "0"
    assert "Nothing you may read has been shared yet." in page
    assert page.count("<h1") == 1
    assert str(uuid.UUID(int=0)) not in page
