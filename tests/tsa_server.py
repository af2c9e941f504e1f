"""A local RFC 3161 time-stamping authority for tests: its own CA, a TSA certificate for time
stamping only (critical extendedKeyUsage), and a route on a :class:`LocalServer` that parses
each TimeStampReq and answers a signed TimeStampResp.

Usage::

    with LocalServer() as server:
        tsa = LocalTSA(server)                 # serves POST /tsr
        tsa.ca_pem_path(tmp_path)              # the CA certificate, for tsa_ca_file
        tsa.mode = "refuse"                    # or "garbage", "hang", "drip", "ok"

The token is built with asn1crypto (its ``tsp`` and ``cms`` modules) and signed with
cryptography: SignedData over a TSTInfo with the signed attributes RFC 3161 and RFC 5816
require (content type, message digest, signing-certificate-v2), as real TSAs do, so that
``openssl ts -verify`` accepts it too.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from servers import Exchange, LocalServer, hang, slow_drip

Mode = Literal["ok", "refuse", "garbage", "hang", "drip"]
POLICY = "1.3.6.1.4.1.55555.1"  # a private arc: any OID serves in tests


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class CertificateAuthority:
    """A root CA and one TSA certificate it issued, both EC P-256."""

    def __init__(self, name: str = "Test TSA Root") -> None:
        now = datetime.now(UTC)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )
        self.tsa_key = ec.generate_private_key(ec.SECP256R1())
        self.tsa_certificate = (
            x509.CertificateBuilder()
            .subject_name(_name("Test TSA"))
            .issuer_name(self.certificate.subject)
            .public_key(self.tsa_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
            .sign(self.key, hashes.SHA256())
        )

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


class LocalTSA:
    """Answers POST `path` on `server` as a TSA would, per `mode`."""

    def __init__(
        self, server: LocalServer, path: str = "/tsr", ca: CertificateAuthority | None = None
    ) -> None:
        self.server = server
        self.path = path
        self.ca = ca or CertificateAuthority()
        self.mode: Mode = "ok"
        self.serials = itertools.count(1)
        self.requests: list[tsp.TimeStampReq] = []
        server.set_handler(path, self._handle)

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def ca_pem_path(self, directory: Path) -> Path:
        path = directory / "tsa-ca.pem"
        path.write_bytes(self.ca.pem())
        return path

    def _handle(self, exchange: Exchange) -> None:
        if self.mode == "hang":
            hang()(exchange)
            return
        if self.mode == "drip":  # a byte at a time, never finishing
            slow_drip(b"0", 0.2, "application/timestamp-reply")(exchange)
            return
        if self.mode == "garbage":
            exchange.send(200, {"Content-Type": "application/timestamp-reply"}, b"not a token")
            return
        request = tsp.TimeStampReq.load(exchange.request.body)
        self.requests.append(request)
        if self.mode == "refuse":
            # A TimeStampResp with a status and no token (asn1crypto's model insists on the
            # token, so the outer SEQUENCE is written by hand).
            status = tsp.PKIStatusInfo(
                {
                    "status": "rejection",
                    "status_string": ["policy not accepted"],
                    "fail_info": {"unaccepted_policy"},
                }
            ).dump()
            body = b"\x30" + bytes([len(status)]) + status
        else:
            body = self.respond(request)
        exchange.send(200, {"Content-Type": "application/timestamp-reply"}, body)

    def respond(self, request: tsp.TimeStampReq, gen_time: datetime | None = None) -> bytes:
        """A granted TimeStampResp over the request's imprint, signed by the TSA key."""
        info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": POLICY,
                "message_imprint": request["message_imprint"],
                "serial_number": next(self.serials),
                "gen_time": (gen_time or datetime.now(UTC)).replace(microsecond=0),
                "accuracy": {"seconds": 1},
                "nonce": request["nonce"].native,
            }
        )
        content = info.dump()
        tsa_der = self.ca.tsa_certificate.public_bytes(serialization.Encoding.DER)
        signed_attributes = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute(
                    {"type": "message_digest", "values": [hashlib.sha256(content).digest()]}
                ),
                cms.CMSAttribute(
                    {
                        "type": "signing_certificate_v2",
                        "values": [{"certs": [{"cert_hash": hashlib.sha256(tsa_der).digest()}]}],
                    }
                ),
            ]
        )
        signature = self.ca.tsa_key.sign(signed_attributes.dump(), ec.ECDSA(hashes.SHA256()))
        tsa_certificate = asn1_x509.Certificate.load(tsa_der)
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": tsa_certificate.issuer,
                            "serial_number": tsa_certificate.serial_number,
                        }
                    }
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": signed_attributes,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed_data = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": core.ParsableOctetString(content),
                },
                "certificates": [tsa_certificate] if request["cert_req"].native else [],
                "signer_infos": [signer],
            }
        )
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": token}
        ).dump()
