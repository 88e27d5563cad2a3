"""The enterprise certificate authority (法人一证通): keys outside the database, X.509 with ``cryptography``.

Three levels, all ECDSA P-256 with SHA-256 (what browsers' WebCrypto signs with, so an agent's key can live in
the browser):

* the platform's **root** (``root.key.pem``, ``root.crt.pem`` in ``TONGBAN_ENTERPRISE_CA_DIR``), made on first use
  with mode 0600 like the audit chain's key file, and kept out of the database account's reach in production;
* one **organisation certificate** per enterprise (a CA for its agents only: ``pathlen=0``), its key in the same
  directory (``org-<serial>.key.pem``): the platform signs an agent's certificate with it on the legal
  representative's instruction;
* the **agents' certificates** (client authentication and digital signature), whose private keys never reach the
  platform: the browser (WebCrypto, non-extractable) or the agent's key file holds them.

Someone who can write the database but cannot read the directory cannot make a certificate that verifies: a
certificate's chain is checked with the keys' signatures up to the root read from the file, every time.

**SM2 agents (the option).** An agent whose key is an SM2 key (GB/T 32918, e.g. on a USB key) gets an agent
certificate for it under the same chain: the organisation signs it with ECDSA P-256 as any other, and the agent
signs challenges and submissions with SM2 and SM3 (the default user ID), checked with ``gmssl`` as the licences'
SM2 signatures are. ``cryptography`` builds no certificate for a key it cannot load, so the certificate is built
for a placeholder P-256 key and the subject public key is then replaced, byte for byte, by the SM2 one (both
SubjectPublicKeyInfo are 91 bytes of the same shape: only the curve's OID and the point differ), and the changed
TBSCertificate is signed again with the organisation's key. The root and organisation certificates stay P-256;
browsers' WebCrypto cannot sign with SM2, so SM2 agents sign in and sign through the API (docs/enterprise.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import threading
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

# SubjectPublicKeyInfo DER of an uncompressed EC point (65 bytes follow): id-ecPublicKey with the named curve
# P-256 (1.2.840.10045.3.1.7) or SM2 (sm2p256v1, 1.2.156.10197.1.301); the same length and shape.
P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")
ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")  # AlgorithmIdentifier ecdsa-with-SHA256
ROOT_NAME = "Tongban Enterprise Root CA 通办法人一证通根证书"
ROOT_YEARS = 20
_lock = threading.Lock()
_root_cache: dict[str, tuple[float, object, x509.Certificate]] = {}


class CertificateInvalid(Exception):
    """A certificate or signature that does not verify; ``reason`` is a short code (``chain``, ``signature``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def ca_dir() -> Path:
    return Path(settings.TONGBAN_ENTERPRISE_CA_DIR)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def root() -> tuple[object, x509.Certificate]:
    """The root's key and certificate, made on first use (both files at once, under a lock)."""
    directory = ca_dir()
    key_path, cert_path = directory / "root.key.pem", directory / "root.crt.pem"
    with _lock:
        cached = _root_cache.get(str(directory))
        if cached is not None and key_path.exists() and key_path.stat().st_mtime == cached[0]:
            return cached[1], cached[2]
        if not key_path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME)])
            now = _now()
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=365 * ROOT_YEARS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
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
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256())
            )
            _write_private(key_path, _key_pem(key))
            cert_path.parent.mkdir(parents=True, exist_ok=True)
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        _root_cache[str(directory)] = (key_path.stat().st_mtime, key, cert)
        return key, cert


def root_pem() -> str:
    return root()[1].public_bytes(serialization.Encoding.PEM).decode()


def _org_key_path(serial_hex: str) -> Path:
    return ca_dir() / f"org-{serial_hex}.key.pem"


def org_key(serial_hex: str):
    path = _org_key_path(serial_hex)
    if not path.exists():
        raise CertificateInvalid("key_missing")
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _ca_usage():
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def organisation_certificate_make(
    *, credit_code: str, name: str, not_after: dt.datetime
) -> tuple[x509.Certificate, str]:
    """A new organisation certificate signed by the root; its key is written beside the root's. Returns the
    certificate and its serial (hex)."""
    root_key, root_cert = root()
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    serial = x509.random_serial_number()
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, name[:64]),
                    x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, credit_code),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{credit_code} 法人一证通"),
                ]
            )
        )
        .issuer_name(root_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(not_after, root_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    serial_hex = format(serial, "x")
    _write_private(_org_key_path(serial_hex), _key_pem(key))
    return cert, serial_hex


class Sm2PublicKey:
    """An SM2 public key (an uncompressed point on sm2p256v1)."""

    algorithm = "SM2"

    def __init__(self, point: bytes):
        if len(point) != 65 or point[0] != 4:
            raise ValueError("not an uncompressed SM2 point")
        self.point = point

    def spki_der(self) -> bytes:
        return SM2_SPKI_PREFIX + self.point

    def hex(self) -> str:  # what gmssl takes: 04 || x || y
        return self.point.hex()


def public_key_load(data: str | bytes):
    """An agent's public key from PEM or base64 DER SPKI (WebCrypto's ``exportKey("spki")``) — ECDSA P-256, or
    SM2 (also as hex ``04||x||y``); ValueError for anything else."""
    if isinstance(data, str):
        data = data.strip().encode()
    if len(data) == 130 and data[:2] == b"04":
        try:
            return Sm2PublicKey(bytes.fromhex(data.decode()))
        except ValueError:
            pass
    if data.startswith(b"-----BEGIN"):
        der = base64.b64decode(b"".join(line for line in data.splitlines() if not line.startswith(b"-----")))
    else:
        der = base64.b64decode(data, validate=True)
    if len(der) == 91 and der.startswith(SM2_SPKI_PREFIX):
        return Sm2PublicKey(der[len(SM2_SPKI_PREFIX) :])
    try:
        key = serialization.load_der_public_key(der)
    except (
        UnsupportedAlgorithm
    ) as exc:  # a curve or algorithm cryptography does not know: a bad key, not a 500
        raise ValueError("not an ECDSA P-256 or SM2 public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not an ECDSA P-256 or SM2 public key")
    return key


def _spki_der(public_key) -> bytes:
    if isinstance(public_key, Sm2PublicKey):
        return public_key.spki_der()
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki_pem(public_key) -> str:
    """A public key as PEM SubjectPublicKeyInfo."""
    body = base64.encodebytes(_spki_der(public_key)).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def key_sha256(public_key) -> str:
    """The SHA-256 of a public key's DER SubjectPublicKeyInfo (how the browser's key finds its certificate)."""
    import hashlib

    return hashlib.sha256(_spki_der(public_key)).hexdigest()


def cert_public_key(cert: x509.Certificate):
    """A certificate's subject public key: a ``cryptography`` key, or ``Sm2PublicKey``."""
    try:
        return cert.public_key()
    except UnsupportedAlgorithm:
        tbs = cert.tbs_certificate_bytes
        at = tbs.find(SM2_SPKI_PREFIX)
        if at < 0:
            raise
        return Sm2PublicKey(tbs[at + len(SM2_SPKI_PREFIX) : at + len(SM2_SPKI_PREFIX) + 65])


def key_algorithm(cert_pem: str) -> str:
    """ "SM2" or "P-256": the algorithm of a certificate's subject key."""
    return "SM2" if isinstance(cert_public_key(load(cert_pem)), Sm2PublicKey) else "P-256"


def spki_b64(cert_pem: str) -> str:
    """A certificate's public key as base64 DER SPKI (what WebCrypto's ``exportKey("spki")`` gives)."""
    return base64.b64encode(_spki_der(cert_public_key(load(cert_pem)))).decode()


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    length = (
        bytes([size])
        if size < 128
        else bytes([0x80 | ((size.bit_length() + 7) // 8)])
        + size.to_bytes((size.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + length + body


def _with_sm2_key(cert: x509.Certificate, placeholder, sm2_key: Sm2PublicKey, issuer_key) -> x509.Certificate:
    """``cert`` (made for ``placeholder``) for the SM2 key instead, signed again by the issuer."""
    old = _spki_der(placeholder)
    tbs = cert.tbs_certificate_bytes
    if len(old) != 91 or not old.startswith(P256_SPKI_PREFIX) or tbs.count(old) != 1:
        raise ValueError("unexpected placeholder key encoding")
    tbs = tbs.replace(old, sm2_key.spki_der())
    signature = issuer_key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return x509.load_der_x509_certificate(_der(0x30, tbs + ECDSA_SHA256 + _der(0x03, b"\x00" + signature)))


def agent_certificate_make(
    *,
    org_cert: x509.Certificate,
    org_serial_hex: str,
    public_key,
    agent_name: str,
    username: str,
    not_after: dt.datetime,
) -> x509.Certificate:
    """An agent's certificate for ``public_key`` (P-256 or SM2), signed with the organisation's key."""
    issuer_key = org_key(org_serial_hex)
    sm2_key = public_key if isinstance(public_key, Sm2PublicKey) else None
    if sm2_key is not None:
        public_key = ec.generate_private_key(ec.SECP256R1()).public_key()  # replaced below
    now = _now()
    org_name = org_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name),
                    x509.NameAttribute(NameOID.USER_ID, username[:64]),
                    x509.NameAttribute(NameOID.COMMON_NAME, (agent_name or username)[:64]),
                ]
            )
        )
        .issuer_name(org_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(not_after, org_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
        .sign(issuer_key, hashes.SHA256())
    )
    return cert if sm2_key is None else _with_sm2_key(cert, public_key, sm2_key, issuer_key)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def load(pem_text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem_text.encode())


def chain_verify(agent_pem: str | None, org_pem: str, *, at: dt.datetime | None = None) -> None:
    """Raise ``CertificateInvalid`` unless the organisation's certificate is signed by the root (from the file)
    and the agent's (if given) by the organisation's, and all are valid at ``at``."""
    at = at or _now()
    _key, root_cert = root()
    try:
        org = load(org_pem)
        org.verify_directly_issued_by(root_cert)
        chain = [org]
        if agent_pem is not None:
            agent = load(agent_pem)
            agent.verify_directly_issued_by(org)
            chain.append(agent)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise CertificateInvalid("chain") from exc
    for cert in (root_cert, *chain):
        if not (cert.not_valid_before_utc <= at <= cert.not_valid_after_utc):
            raise CertificateInvalid("expired")


def signature_der(signature: bytes) -> bytes:
    """WebCrypto signs ECDSA as r‖s (IEEE P1363, 64 bytes for P-256); X.509 tools as DER. Accept both."""
    if len(signature) == 64:
        return encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
    return signature


def key_signature_verify(public_key, data: bytes, signature: bytes) -> None:
    """Raise ``CertificateInvalid("signature")`` unless ``signature`` (r‖s or DER) is ``public_key``'s over
    ``data``: ECDSA P-256 with SHA-256, or SM2 with SM3 (the default user ID, GB/T 35276)."""
    if isinstance(public_key, Sm2PublicKey):
        from tongban.licences.crypto import SM2, verify

        if len(signature) != 64:
            try:
                r, s = decode_dss_signature(signature)
                signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
            except (ValueError, OverflowError) as exc:
                raise CertificateInvalid("signature") from exc
        if not verify(SM2, public_key.hex(), data, signature):
            raise CertificateInvalid("signature")
        return
    try:
        public_key.verify(signature_der(signature), data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise CertificateInvalid("signature") from exc


def signature_verify(cert_pem: str, data: bytes, signature: bytes) -> None:
    """Raise ``CertificateInvalid("signature")`` unless ``signature`` is the certificate's key's over ``data``."""
    try:
        public_key = cert_public_key(load(cert_pem))
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CertificateInvalid("signature") from exc
    key_signature_verify(public_key, data, signature)


def crl_make(*, issuer_cert: x509.Certificate, issuer_key, revoked: list[tuple[str, dt.datetime]]) -> bytes:
    """A DER CRL signed by ``issuer_key`` listing ``(serial hex, revoked at)``; valid for a day."""
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=1))
    )
    for serial_hex, at in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(int(serial_hex, 16)).revocation_date(at).build()
        )
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
