"""A client of an RFC 3161 time-stamping authority (TSA): ask it to timestamp a message, and
check a token it gave.

Requests are built, and answers parsed and verified, by ``rfc3161-client`` (Trail of Bits;
maintained, typed, used by sigstore-python; its parsing is Rust, so a garbage answer is a
clean error, not a crash). Its verifier checks that the token's signature chains to a
trusted CA at the token's time, that the signing certificate is for time stamping only
(critical extendedKeyUsage), the nonce, and that the imprint is the message's.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import requests
import urllib3
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimeStampRequest,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

__all__ = [
    "StampedMessage",
    "TSAError",
    "TokenCheck",
    "load_ca_certificates",
    "request_timestamp",
    "verify_token",
]

TsaHash = Literal["sha256", "sha512"]
_ALGORITHMS: dict[str, HashAlgorithm] = {
    "sha256": HashAlgorithm.SHA256,
    "sha512": HashAlgorithm.SHA512,
}
# A TimeStampResp is a few kilobytes (the token and the TSA's certificates); anything far
# bigger is not one.
MAX_RESPONSE_BYTES = 256 * 1024


class TSAError(Exception):
    """The TSA could not be reached, refused, or answered something that is not a valid
    token for our request; the message says which, for the timestamp's record."""


@dataclass(frozen=True)
class StampedMessage:
    response_der: bytes
    gen_time: datetime


def load_ca_certificates(path: Path) -> list[x509.Certificate]:
    """The certificates of a PEM file (the TSA's root CA, and any intermediates)."""
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise TSAError(f"cannot read the TSA CA file {path}: {exc}") from exc
    return certificates


def _verifier(
    roots: Sequence[x509.Certificate], request: TimeStampRequest | None = None
) -> VerifierBuilder:
    builder = VerifierBuilder.from_request(request) if request is not None else VerifierBuilder()
    for certificate in roots:
        builder = builder.add_root_certificate(certificate)
    return builder


def _decode(response_der: bytes) -> TimeStampResponse:
    try:
        return decode_timestamp_response(response_der)
    except ValueError as exc:
        raise TSAError(f"the TSA's answer is not a TimeStampResp: {exc}") from exc


def _gen_time(response: TimeStampResponse) -> datetime:
    when = response.tst_info.gen_time
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def request_timestamp(
    url: str,
    message: bytes,
    *,
    hash_algorithm: TsaHash = "sha256",
    roots: Sequence[x509.Certificate] = (),
    headers: Sequence[str] = (),
    username: str | None = None,
    password: str | None = None,
    timeout: float = 30.0,
) -> StampedMessage:
    """Ask the TSA at `url` to timestamp `message` (its digest is sent, with a nonce and a
    request for the TSA's certificate). The answer must grant a token over that digest and
    nonce; with `roots`, its signature must also chain to one of them. Raises TSAError."""
    request = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(_ALGORITHMS[hash_algorithm])
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    sent = {"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"}
    for header in headers:
        name, _, value = header.partition(":")
        sent[name.strip()] = value.strip()
    if username is not None:
        credentials = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
        sent["Authorization"] = f"Basic {credentials}"
    deadline = time.monotonic() + 2 * timeout
    try:
        with requests.Session() as session:
            session.trust_env = False  # the TSA is the operator's; no proxy from the environment
            with session.post(
                url,
                data=request.as_bytes(),
                headers=sent,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
            ) as answer:
                if answer.status_code != 200:
                    raise TSAError(f"the TSA answered HTTP {answer.status_code}")
                body = b""
                while True:
                    # read1: whatever has arrived (each read bounded by `timeout`), so the
                    # overall deadline below also ends a TSA that drips its answer.
                    chunk = answer.raw.read1(16384, decode_content=True)
                    if not chunk:
                        break
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise TSAError("the TSA's answer is too large to be a timestamp")
                    if time.monotonic() > deadline:
                        raise requests.Timeout()
    except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
        raise TSAError(f"the TSA did not answer within {timeout:g} s") from exc
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise TSAError(f"the TSA could not be reached: {exc}") from exc
    response = _decode(body)
    try:
        status = PKIStatus(response.status)
    except ValueError as exc:
        raise TSAError(f"the TSA answered an unknown status {response.status}") from exc
    if status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        detail = "; ".join(response.status_string) or "no reason given"
        raise TSAError(f"the TSA refused: status {status.name.lower()} ({detail})")
    # Status, nonce and imprint always; the signature when the CA is known.
    imprint = response.tst_info.message_imprint
    if imprint.message != request.message_imprint.message:
        raise TSAError("the TSA's token is for another message than the one sent")
    if response.tst_info.nonce != request.nonce:
        raise TSAError("the TSA's token does not carry our request's nonce (a replayed answer?)")
    if roots:
        try:
            _verifier(roots, request).build().verify_message(response, message)
        except VerificationError as exc:
            raise TSAError(f"the TSA's token does not verify: {exc}") from exc
    return StampedMessage(response.as_bytes(), _gen_time(response))


@dataclass(frozen=True)
class TokenCheck:
    gen_time: datetime | None
    # The hex digest the token carries, whatever its signature.
    imprint: str | None
    problem: str | None  # None: the token holds (signature checked only when roots given)


def verify_token(
    response_der: bytes, message: bytes, roots: Sequence[x509.Certificate]
) -> TokenCheck:
    """Check a stored answer against `message`: a granted token whose imprint is the
    message's digest and, with `roots`, whose signature chains to one of them."""
    try:
        response = _decode(response_der)
        gen_time = _gen_time(response)
        imprint = response.tst_info.message_imprint.message.hex()
    except (TSAError, ValueError) as exc:
        return TokenCheck(None, None, f"the stored token cannot be read: {exc}")
    try:
        if roots:
            _verifier(roots).build().verify_message(response, message)
        else:
            algorithm = response.tst_info.message_imprint.hash_algorithm.dotted_string
            digest = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.3": "sha512"}
            name = digest.get(algorithm)
            if name is None or hashlib.new(name, message).hexdigest() != imprint:
                return TokenCheck(gen_time, imprint, "the token's imprint is not the heads'")
    except VerificationError as exc:
        return TokenCheck(gen_time, imprint, f"the token does not verify: {exc}")
    return TokenCheck(gen_time, imprint, None)
