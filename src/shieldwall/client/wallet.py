"""Blind tokens on the member's side: fetch, pin keys, store, spend.

The wallet is a JSON file (mode 600) per hub in the state directory
(``$SHIELDWALL_STATE_DIR``, else ``~/.local/share/shieldwall``). It pins every epoch key
the hub announced at its stable URL the first time it was seen; a later announcement of a
different key for the same epoch, or an issuance under a key not announced, is refused:
that is how a hub trying to tag one member with a key of its own would be caught.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import orjson
from voprf import ristretto

from shieldwall.client.hub import HubClient
from shieldwall.domain.errors import InvalidInput, ShieldwallError
from shieldwall.domain.tokens import MAX_BATCH, TOKEN_INPUT_BYTES, finalize_verified


class KeyNotAnnounced(ShieldwallError):
    """The hub used, or now announces, a key the wallet has not pinned for that epoch."""


@dataclass(frozen=True, slots=True)
class Token:
    """A spendable token: the epoch, the random input and the VOPRF output."""

    epoch: int
    input: bytes
    output: bytes

    def to_wire(self) -> dict[str, object]:
        """The ``token`` member of an unlinkable submission."""
        return {
            "epoch": self.epoch,
            "input": base64.b64encode(self.input).decode(),
            "authenticator": base64.b64encode(self.output).decode(),
        }


def default_state_dir() -> Path:
    """Where wallets live unless told otherwise."""
    configured = os.environ.get("SHIELDWALL_STATE_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".local" / "share" / "shieldwall"


class Wallet:
    """The tokens and pinned keys for one hub."""

    def __init__(self, hub_url: str, state_dir: Path) -> None:
        name = hashlib.sha256(hub_url.rstrip("/").encode()).hexdigest()[:16]
        self.path = state_dir / f"wallet-{name}.json"
        self.hub_url = hub_url.rstrip("/")
        self.pinned: dict[int, str] = {}
        self.tokens: list[Token] = []
        self.assets: dict[str, list[str]] | None = None
        if self.path.exists():
            data = orjson.loads(self.path.read_bytes())
            self.pinned = {int(k): str(v) for k, v in data.get("pinned", {}).items()}
            self.assets = data.get("assets")
            self.tokens = [
                Token(int(t["epoch"]), base64.b64decode(t["input"]), base64.b64decode(t["output"]))
                for t in data.get("tokens", [])
            ]

    def save(self) -> None:
        """Write the wallet (owner-only permissions)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "hub": self.hub_url,
            "pinned": {str(k): v for k, v in sorted(self.pinned.items())},
            "assets": self.assets,
            "tokens": [
                {
                    "epoch": t.epoch,
                    "input": base64.b64encode(t.input).decode(),
                    "output": base64.b64encode(t.output).decode(),
                }
                for t in self.tokens
            ],
        }
        temporary = self.path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        temporary.chmod(0o600)
        temporary.replace(self.path)

    def pin(self, announced: list[tuple[int, str]]) -> None:
        """Pin newly announced keys; refuse an announcement that changes a pinned one."""
        for epoch, key in announced:
            known = self.pinned.get(epoch)
            if known is not None and known != key:
                raise KeyNotAnnounced(
                    f"the hub now announces a different key for epoch {epoch} than it did"
                    " before; refusing (a per-member key would let it link your tokens)"
                )
        for epoch, key in announced:
            self.pinned.setdefault(epoch, key)

    def usable(self, current_epochs: set[int]) -> list[Token]:
        """Tokens of epochs the hub still accepts."""
        return [t for t in self.tokens if t.epoch in current_epochs]

    def take(self, current_epochs: set[int]) -> Token:
        """Remove and return a token to spend (oldest epoch first); saved at once, so a
        token is never offered twice even if the submission fails."""
        usable = sorted(self.usable(current_epochs), key=lambda t: t.epoch)
        if not usable:
            raise InvalidInput("no usable token left: run shieldwall anon tokens --count N")
        token = usable[0]
        self.tokens.remove(token)
        self.save()
        return token


def fetch_tokens(client: HubClient, wallet: Wallet, count: int) -> list[Token]:
    """Obtain ``count`` tokens: read the announced keys anonymously, pin them, blind fresh
    random inputs, have the hub evaluate them (authenticated), verify the DLEQ proof
    against the pinned key and store the tokens."""
    if not 1 <= count <= 1000:
        raise InvalidInput("ask for 1 to 1000 tokens")
    announced = client.announced_keys()
    wallet.pin([(key.epoch, key.public_key) for key in announced])
    wallet.save()
    epoch = max(key.epoch for key in announced)
    fetched: list[Token] = []
    while len(fetched) < count:
        batch = min(MAX_BATCH, count - len(fetched))
        inputs = [secrets.token_bytes(TOKEN_INPUT_BYTES) for _ in range(batch)]
        blinds = [ristretto.Client.blind(item) for item in inputs]
        answer = client.issue_tokens(epoch, [bytes(b.serialize()) for _, b in blinds])
        issued_epoch, issued_key = int(answer["epoch"]), str(answer["public_key"])
        if wallet.pinned.get(issued_epoch) != issued_key:
            raise KeyNotAnnounced(
                f"the hub issued tokens under key {issued_key[:16]}… for epoch {issued_epoch},"
                " which it has not announced at its public URL; refusing them"
            )
        outputs = finalize_verified(
            [c for c, _ in blinds],
            base64.b64decode(answer["evaluation"]),
            bytes.fromhex(issued_key),
        )
        if outputs is None:
            raise KeyNotAnnounced(
                "the hub's proof does not verify against its announced key; refusing the tokens"
            )
        fetched.extend(Token(issued_epoch, i, o) for i, o in zip(inputs, outputs, strict=True))
    wallet.tokens.extend(fetched)
    # Declared assets are fetched now, with the key, so that submitting later needs no
    # authenticated call that the hub could correlate with the submission's arrival.
    wallet.assets = client.my_assets()
    wallet.save()
    return fetched
