"""Operations promises: backups, health/readiness, metrics, headers, rate limits, key
revocation, audit trail."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from conftest import make_hub
from shieldwall.domain.errors import Conflict, InvalidInput
from shieldwall.services import admin, audit
from shieldwall.services.context import Hub, HubConfig
from shieldwall.storage import backup as backups
from shieldwall.storage.database import Database
from shieldwall.web.app import create_app


def _client(hub: Hub) -> TestClient:
    return TestClient(create_app(hub))


def _member(hub: Hub, name: str = "Bank") -> str:
    admin.add_organisation(hub, name, "financial", "US")
    return admin.create_key(hub, name)


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    hub = make_hub(url)
    _member(hub)
    copy = tmp_path / "copy.db"
    assert backups.backup(url, copy) > 0
    assert backups.integrity_problems(copy) == []
    with pytest.raises(Conflict):
        backups.backup(url, copy)  # never overwrites
    admin.add_organisation(hub, "Added after the backup", "legal", "GB")
    assert isinstance(hub.store, Database)
    hub.store.dispose()
    with pytest.raises(Conflict):
        backups.restore(copy, url)  # refuses to replace without --force
    backups.restore(copy, url, force=True)
    restored = make_hub(url)
    names = [o.name for o in admin.list_organisations(restored)]
    assert names == ["Bank"]


def test_restore_refuses_a_damaged_backup(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises((InvalidInput, sqlite3.DatabaseError)):
        backups.restore(damaged, f"sqlite:///{tmp_path / 'target.db'}", force=True)


def test_backup_of_postgresql_points_to_its_tools() -> None:
    with pytest.raises(InvalidInput, match="pg_dump"):
        backups.backup("postgresql://u@127.0.0.1/db", Path("x.db"))


def test_health_readiness_metrics_and_headers(sqlite_hub: Hub) -> None:
    client = _client(sqlite_hub)
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    key = _member(sqlite_hub)
    response = client.get("/taxii2/", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    for header in (
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Content-Security-Policy",
        "Referrer-Policy",
        "Cache-Control",
    ):
        assert header in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    metrics = client.get("/metrics").text
    assert 'shieldwall_http_requests_total{method="GET",route="/taxii2/",status="200"}' in metrics


def test_rate_limit_per_key(tmp_path: Path) -> None:
    hub = make_hub(f"sqlite:///{tmp_path / 'h.db'}", HubConfig(rate_limit_per_minute=5))
    key = _member(hub)
    other = _member(hub, "Other")
    client = _client(hub)
    codes = [
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [200] * 5
    assert codes[5:] == [429, 429]
    limited = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert int(limited.headers["Retry-After"]) >= 1
    assert "requests a minute" in limited.json()["error"]["description"]
    # another key is not affected
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_revocation_takes_effect_at_once_and_use_is_recorded(sqlite_hub: Hub) -> None:
    key = _member(sqlite_hub)
    client = _client(sqlite_hub)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    (info,) = admin.list_keys(sqlite_hub, "Bank")
    assert info.last_used_at is not None
    uses = [e for e in audit.entries(sqlite_hub) if e.action == "key.use"]
    assert [e.actor for e in uses] == ["Bank"]
    assert key not in uses[0].detail  # the key id is recorded, never the secret
    admin.revoke_key(sqlite_hub, key)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_audit_trail_records_and_detects_tampering(sqlite_hub: Hub) -> None:
    key = _member(sqlite_hub)
    admin.create_group(sqlite_hub, "alliance", ["Bank"])
    admin.revoke_key(sqlite_hub, key)
    actions = [e.action for e in audit.entries(sqlite_hub)]
    assert actions == ["organisation.add", "key.create", "group.create", "key.revoke"]
    assert all(key not in e.detail for e in audit.entries(sqlite_hub))  # secrets never logged
    assert audit.verify(sqlite_hub).problems == []
    assert isinstance(sqlite_hub.store, Database)
    with sqlite_hub.store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2"))
    problems = audit.verify(sqlite_hub).problems
    assert problems == ["entry 2: content does not match its hash"]
    with sqlite_hub.store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    assert any("does not follow" in p for p in audit.verify(sqlite_hub).problems)
