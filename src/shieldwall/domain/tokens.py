"""One-time blind tokens on the VOPRF of RFC 9497 (ristretto255-SHA512), Privacy-Pass style.

Issue: a member blinds random token inputs; the hub evaluates them with the epoch key and
proves (DLEQ) it used the announced key; the member unblinds and keeps
``(input, output)``. Redeem: the hub recomputes ``output = VOPRF(key, input)`` and compares.
Blinding makes the token the member redeems unlinkable to the issuance the hub saw.

Keys are derived with RFC 9497 ``DeriveKeyPair(seed, info)``; ``info`` binds the epoch.
This module is pure over bytes (the ``voprf`` package, pinned, implements the group maths).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator, Sequence

from voprf import ristretto

from shieldwall.domain.errors import InvalidInput

SUITE = "ristretto255-SHA512"
TOKEN_INPUT_BYTES = 32
OUTPUT_BYTES = 64
MAX_BATCH = 100


def key_info(epoch: int) -> bytes:
    """The ``info`` string bound into an epoch's key."""
    return f"shieldwall token epoch {epoch}".encode()


def _evaluator(seed: bytes, info: bytes) -> ristretto.Evaluator:
    return ristretto.Evaluator.from_seed(seed, info)


def public_key_for(seed: bytes, info: bytes) -> bytes:
    """The serialized public key of the key derived from ``seed`` and ``info``."""
    return bytes(_evaluator(seed, info).public_key.serialize())


def evaluate_elements(seed: bytes, info: bytes, blinded: Sequence[bytes], noun: str) -> bytes:
    """Evaluate blinded elements under the key ``(seed, info)``: the serialized verifiable
    batch output (evaluated elements and one DLEQ proof). Callers bound the batch size.
    Raises ``InvalidInput`` ("a blinded <noun> is not …") for a malformed element."""
    try:
        elements = [ristretto.BlindedInput.deserialize(item) for item in blinded]
    except ValueError:
        raise InvalidInput(f"a blinded {noun} is not a valid ristretto255 element") from None
    return bytes(_evaluator(seed, info).evaluate_batch(elements).serialize())


def evaluate_known(seed: bytes, info: bytes, inputs: Iterable[bytes]) -> Iterator[bytes]:
    """The unblinded VOPRF outputs (RFC 9497 Evaluate) of ``inputs`` under ``(seed, info)``:
    what a member obtains for each by blind evaluation."""
    evaluate = _evaluator(seed, info).evaluate_known_input
    for item in inputs:
        yield bytes(evaluate(item))


def finalize_verified(
    clients: Sequence[ristretto.Client], evaluation: bytes, public_key: bytes
) -> list[bytes] | None:
    """Unblind a batch output, checking its DLEQ proof against ``public_key``; None if the
    proof (or the output) does not verify."""
    try:
        outputs = ristretto.Client.finalize_batch(
            list(clients),
            ristretto.VerifiableBatchOutput.deserialize(evaluation),
            ristretto.PublicKey.deserialize(public_key),
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # voprf reports a failed proof as a Rust panic (BaseException)
        return None
    return [bytes(output) for output in outputs]


def public_key(seed: bytes, epoch: int) -> bytes:
    """The serialized public key of the epoch key derived from ``seed``."""
    return public_key_for(seed, key_info(epoch))


def evaluate_blinded(seed: bytes, epoch: int, blinded: Sequence[bytes]) -> bytes:
    """Evaluate a batch of blinded elements; return the serialized verifiable batch output
    (evaluated elements and one DLEQ proof). Raises ``InvalidInput`` for a malformed element
    or a batch that is empty or larger than ``MAX_BATCH``."""
    if not 1 <= len(blinded) <= MAX_BATCH:
        raise InvalidInput(f"ask for 1 to {MAX_BATCH} tokens at a time, not {len(blinded)}")
    return evaluate_elements(seed, key_info(epoch), blinded, "element")


def token_output(seed: bytes, epoch: int, token_input: bytes) -> bytes:
    """The unblinded VOPRF output for ``token_input`` under the epoch key (RFC 9497 Evaluate)."""
    return next(evaluate_known(seed, key_info(epoch), [token_input]))


def verify_token(seed: bytes, epoch: int, token_input: bytes, authenticator: bytes) -> bool:
    """Whether ``authenticator`` is the VOPRF output of ``token_input`` (constant time)."""
    if len(token_input) != TOKEN_INPUT_BYTES or len(authenticator) != OUTPUT_BYTES:
        return False
    return hmac.compare_digest(token_output(seed, epoch, token_input), authenticator)


def spent_key(epoch: int, token_input: bytes) -> str:
    """What the spent-token table stores for a token: a digest, never the token itself."""
    return hashlib.sha256(f"{epoch}:".encode() + token_input).hexdigest()
