"""X's CRC answer and delivery signature, checked against the vectors in reference/x-dm-api.md §2.3-2.4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from integrations.x.signatures import crc_response_token, is_signed_by, sign

VECTORS_FILE = Path(__file__).parents[2] / "fixtures" / "x" / "x-webhook-crc-signature-vectors.jsonl"
VECTORS: list[dict[str, Any]] = [orjson.loads(line) for line in VECTORS_FILE.read_bytes().splitlines() if line]
CRC_VECTORS = [v for v in VECTORS if "crc_token" in v]
BODY_VECTORS = [v for v in VECTORS if "raw_body" in v]
# The signature vector line does not repeat the secret; §2.4 states it is the same one.
SECRET = CRC_VECTORS[0]["consumer_secret"]


def test_vectors_file_has_both_kinds() -> None:
    assert (len(CRC_VECTORS), len(BODY_VECTORS)) == (1, 1)
    assert SECRET == "test_consumer_secret"


@pytest.mark.parametrize("vector", CRC_VECTORS)
def test_crc_response_token_matches_vector(vector: dict[str, Any]) -> None:
    assert crc_response_token(vector["consumer_secret"], vector["crc_token"]) == vector["response_token"]


@pytest.mark.parametrize("vector", BODY_VECTORS)
def test_signature_matches_vector(vector: dict[str, Any]) -> None:
    body = vector["raw_body"].encode()
    header = vector["x-twitter-webhooks-signature"]

    assert sign(SECRET, body) == header
    assert is_signed_by(SECRET, body, header)


def _flip_each_byte(body: bytes) -> list[bytes]:
    return [body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :] for i in range(len(body))]


@pytest.mark.parametrize("vector", BODY_VECTORS)
def test_any_flipped_byte_breaks_the_signature(vector: dict[str, Any]) -> None:
    body = vector["raw_body"].encode()
    header = vector["x-twitter-webhooks-signature"]

    assert not any(is_signed_by(SECRET, tampered, header) for tampered in _flip_each_byte(body))


BODY = BODY_VECTORS[0]["raw_body"].encode()
GOOD_HEADER = BODY_VECTORS[0]["x-twitter-webhooks-signature"]

REJECTED = [
    pytest.param("wrong_consumer_secret", GOOD_HEADER, id="wrong-secret"),
    pytest.param(SECRET, "", id="empty-header"),
    pytest.param(SECRET, None, id="missing-header"),
    pytest.param(SECRET, "62uSzi0ITsKqyj5ZDmb8qN7BOCF3cOEmF4n/++nCpFE=", id="no-sha256-prefix"),
    pytest.param(SECRET, "sha256=583uAmerwtjpykYEAEm+CEIRm6dOywK4QKRr0ha/Pd4=", id="signature-of-something-else"),
]


@pytest.mark.parametrize(("secret", "header"), REJECTED)
def test_bad_signatures_are_rejected(secret: str, header: str | None) -> None:
    assert not is_signed_by(secret, BODY, header)


def test_crc_token_with_a_wrong_secret_differs() -> None:
    vector = CRC_VECTORS[0]

    assert crc_response_token("wrong_consumer_secret", vector["crc_token"]) != vector["response_token"]
