"""Blind tokens: the RFC 9497 known-answer test for the pinned ``voprf`` package, and the
round trips of ``domain/tokens.py`` (issue, unblind, verify; tampering; batch limits)."""

from __future__ import annotations

import re
import secrets
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from voprf import ristretto

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.tokens import (
    MAX_BATCH,
    OUTPUT_BYTES,
    SUITE,
    TOKEN_INPUT_BYTES,
    evaluate_blinded,
    key_info,
    public_key,
    spent_key,
    token_output,
    verify_token,
)

REPO = Path(__file__).resolve().parents[2]

# RFC 9497 Appendix A.1.2: ristretto255-SHA512, VOPRF mode.
RFC_SEED = bytes([0xA3]) * 32
RFC_KEY_INFO = b"test key"
RFC_PK = "c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e"
RFC_VECTORS = [
    # (input, blinded element, evaluation element, output): test vectors 1 and 2
    (
        "00",
        "863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945",
        "aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e",
        "b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7d"
        "a4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c",
    ),
    (
        "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
        "cc0b2a350101881d8a4cba4c80241d74fb7dcbfde4a61fde2f91443c2bf9ef0c",
        "60a59a57208d48aca71e9e850d22674b611f752bed48b36f7a91b372bd7ad468",
        "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60"
        "356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6",
    ),
]
# Test vector 3 (batch of 2): the second input under another blind.
RFC_BATCH_BLINDED_2 = "90a0145ea9da29254c3a56be4fe185465ebb3bf2a1801f7124bbbadac751e654"
RFC_BATCH_EVALUATED_2 = "cc5ac221950a49ceaa73c8db41b82c20372a4c8d63e5dded2db920b7eee36a2a"

SEED = bytes(range(32))
EPOCH = 2810


def _issue(count: int, seed: bytes = SEED, epoch: int = EPOCH) -> list[tuple[bytes, bytes]]:
    """The whole protocol: the client blinds, the hub evaluates, the client unblinds and
    verifies the proof against the announced key; returns ``(input, output)`` tokens."""
    inputs = [secrets.token_bytes(TOKEN_INPUT_BYTES) for _ in range(count)]
    blinds = [ristretto.Client.blind(item) for item in inputs]
    answer = evaluate_blinded(seed, epoch, [bytes(b.serialize()) for _, b in blinds])
    outputs = ristretto.Client.finalize_batch(
        [client for client, _ in blinds],
        ristretto.VerifiableBatchOutput.deserialize(answer),
        ristretto.PublicKey.deserialize(public_key(seed, epoch)),
    )
    return [(i, bytes(o)) for i, o in zip(inputs, outputs, strict=True)]


def _flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --------------------------------------------------------------------- RFC 9497 KAT


def test_rfc9497_key_derivation() -> None:
    evaluator = ristretto.Evaluator.from_seed(RFC_SEED, RFC_KEY_INFO)
    assert bytes(evaluator.public_key.serialize()).hex() == RFC_PK


@pytest.mark.parametrize(("token_input", "blinded", "evaluated", "output"), RFC_VECTORS)
def test_rfc9497_known_answers(token_input: str, blinded: str, evaluated: str, output: str) -> None:
    evaluator = ristretto.Evaluator.from_seed(RFC_SEED, RFC_KEY_INFO)
    assert bytes(evaluator.evaluate_known_input(bytes.fromhex(token_input))).hex() == output
    # BlindEvaluate of the RFC's blinded element gives the RFC's evaluation element (the
    # proof is randomised, so only the element is compared; it ends the serialization).
    answer = evaluator.evaluate(ristretto.BlindedInput.deserialize(bytes.fromhex(blinded)))
    assert bytes(answer.serialize()).hex().endswith(evaluated)


def test_rfc9497_batch_evaluation() -> None:
    evaluator = ristretto.Evaluator.from_seed(RFC_SEED, RFC_KEY_INFO)
    batch = [
        ristretto.BlindedInput.deserialize(bytes.fromhex(RFC_VECTORS[0][1])),
        ristretto.BlindedInput.deserialize(bytes.fromhex(RFC_BATCH_BLINDED_2)),
    ]
    serialized = bytes(evaluator.evaluate_batch(batch).serialize()).hex()
    assert serialized.endswith(RFC_VECTORS[0][2] + RFC_BATCH_EVALUATED_2)


def test_domain_matches_the_rfc_evaluate() -> None:
    """``token_output`` is RFC 9497 Evaluate under DeriveKeyPair(seed, key_info(epoch))."""
    evaluator = ristretto.Evaluator.from_seed(RFC_SEED, key_info(7))
    assert token_output(RFC_SEED, 7, b"\x00") == bytes(evaluator.evaluate_known_input(b"\x00"))
    assert SUITE == "ristretto255-SHA512"


def test_voprf_is_declared_and_installed_at_0_2_0() -> None:
    assert version("voprf") == "0.2.0"
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert "voprf==0.2.0" in [d.replace(" ", "") for d in project["dependencies"]]


def test_requirements_lock_pins_voprf_0_2_0() -> None:
    lock = (REPO / "requirements.lock").read_text()
    pins = re.findall(r"(?im)^voprf\s*==\s*(\S+)\s*$", lock)
    assert pins == ["0.2.0"], f"requirements.lock must pin voprf==0.2.0, found {pins}"


# ----------------------------------------------------------------- domain round trips


def test_keys_are_bound_to_the_epoch() -> None:
    assert key_info(EPOCH) != key_info(EPOCH + 1)
    assert public_key(SEED, EPOCH) != public_key(SEED, EPOCH + 1)
    assert public_key(SEED, EPOCH) == public_key(SEED, EPOCH)
    assert len(public_key(SEED, EPOCH)) == 32


def test_issue_unblind_verify_round_trip() -> None:
    tokens = _issue(5)
    assert len({i for i, _ in tokens}) == 5
    for token_input, output in tokens:
        assert len(output) == OUTPUT_BYTES
        assert output == token_output(SEED, EPOCH, token_input)
        assert verify_token(SEED, EPOCH, token_input, output)


def test_blinding_hides_the_input() -> None:
    """The hub never sees the input: the same input blinds differently each time and the
    blinded element does not contain it."""
    token_input = secrets.token_bytes(TOKEN_INPUT_BYTES)
    first = bytes(ristretto.Client.blind(token_input)[1].serialize())
    second = bytes(ristretto.Client.blind(token_input)[1].serialize())
    assert first != second
    assert token_input not in first and token_input not in second


@pytest.mark.parametrize("what", ["input", "authenticator", "epoch", "seed"])
def test_tampered_token_fails(what: str) -> None:
    ((token_input, output),) = _issue(1)
    seed, epoch = SEED, EPOCH
    if what == "input":
        token_input = _flip(token_input, 7)
    elif what == "authenticator":
        output = _flip(output, 63)
    elif what == "epoch":
        epoch += 1
    else:
        seed = _flip(seed)
    assert not verify_token(seed, epoch, token_input, output)


@pytest.mark.parametrize(
    ("input_size", "output_size"),
    [(TOKEN_INPUT_BYTES - 1, OUTPUT_BYTES), (TOKEN_INPUT_BYTES, OUTPUT_BYTES + 1), (0, 0)],
)
def test_wrong_lengths_fail(input_size: int, output_size: int) -> None:
    ((token_input, output),) = _issue(1)
    assert not verify_token(SEED, EPOCH, token_input[:input_size], (output * 2)[:output_size])


def test_proof_under_another_key_does_not_verify() -> None:
    """What the wallet relies on: an evaluation under a key other than the announced one
    fails the DLEQ proof. (voprf 0.2.0 reports that as a Rust panic, a ``BaseException``,
    not a ``ValueError``: see test_client.py.)"""
    token_input = secrets.token_bytes(TOKEN_INPUT_BYTES)
    client, blinded = ristretto.Client.blind(token_input)
    answer = evaluate_blinded(SEED, EPOCH, [bytes(blinded.serialize())])
    outcome: BaseException | None = None
    try:
        ristretto.Client.finalize_batch(
            [client],
            ristretto.VerifiableBatchOutput.deserialize(answer),
            ristretto.PublicKey.deserialize(public_key(SEED, EPOCH + 1)),
        )
    except BaseException as exc:  # a pyo3 PanicException is no Exception
        outcome = exc
    assert outcome is not None, "a proof under another key verified"
    assert "ProofVerification" in str(outcome) or isinstance(outcome, ValueError)


def test_batch_size_limits() -> None:
    assert len(_issue(MAX_BATCH)) == MAX_BATCH
    element = bytes(ristretto.Client.blind(b"x")[1].serialize())
    with pytest.raises(InvalidInput, match=f"1 to {MAX_BATCH} tokens at a time, not 0"):
        evaluate_blinded(SEED, EPOCH, [])
    with pytest.raises(InvalidInput, match=f"not {MAX_BATCH + 1}"):
        evaluate_blinded(SEED, EPOCH, [element] * (MAX_BATCH + 1))


@pytest.mark.parametrize(
    "malformed",
    [b"", b"\x01" * 31, b"\xff" * 32, b"\x00" * 33],
    ids=["empty", "short", "non-canonical", "long"],
)
def test_malformed_blinded_element(malformed: bytes) -> None:
    good = bytes(ristretto.Client.blind(b"x")[1].serialize())
    with pytest.raises(InvalidInput, match="not a valid ristretto255 element"):
        evaluate_blinded(SEED, EPOCH, [good, malformed])


def test_spent_key_is_a_digest() -> None:
    token_input = secrets.token_bytes(TOKEN_INPUT_BYTES)
    key = spent_key(EPOCH, token_input)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key == spent_key(EPOCH, token_input)
    assert key != spent_key(EPOCH + 1, token_input)
    assert token_input.hex() not in key
