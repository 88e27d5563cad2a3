"""Signature algorithms for licences: Ed25519 (default) and SM2 with SM3 (GB/T 32918, GB/T 32905).

Each algorithm generates a key pair as ``(private_text, public_text)``, signs bytes with the private text and
verifies with the public text; signatures are raw bytes (64 for both). Ed25519 comes from ``cryptography``
(private keys as PEM PKCS#8, public keys as PEM SubjectPublicKeyInfo). SM2 comes from ``gmssl``: keys in hex
(private: 64 hex digits; public: ``04`` || x || y), signatures r || s, the digest SM3(Z || M) with the
standard user ID ``1234567812345678``.

Two things of gmssl are not used as they are. Its random numbers come from ``random.choice``, which is not
a cryptographic generator; an SM2 nonce that can be guessed gives away the private key, so private keys and
nonces here come from ``secrets``. And its ``CryptSM2`` strips a leading ``"04"`` from a public key with
``str.lstrip``, which also eats a leading 0 or 4 digit of x; the key is set on the object directly instead.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from gmssl import sm2

ED25519 = "ed25519"
SM2 = "sm2"
ALGORITHMS = (ED25519, SM2)

_SM2_N = int(sm2.default_ecc_table["n"], 16)


@dataclass(frozen=True)
class KeyPair:
    algorithm: str
    private: str  # what the key storage keeps
    public: str  # what the SigningKey row keeps
    key_id: str


def key_id_for(algorithm: str, public: str) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    return hashlib.sha256(f"{algorithm}:".encode() + _public_raw(algorithm, public)).hexdigest()[:16]


def _public_raw(algorithm: str, public: str) -> bytes:
    if algorithm == ED25519:
        key = serialization.load_pem_public_key(public.encode())
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if algorithm == SM2:
        return bytes.fromhex(public)
    raise ValueError(f"unknown algorithm {algorithm!r}")


def generate(algorithm: str) -> KeyPair:
    """A new key pair of ``algorithm``."""
    if algorithm == ED25519:
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
    elif algorithm == SM2:
        d = secrets.randbelow(_SM2_N - 2) + 1  # 1 <= d <= n - 2
        private = f"{d:064x}"
        public = "04" + _sm2(private, "")._kg(d, sm2.default_ecc_table["g"])
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    return KeyPair(algorithm=algorithm, private=private, public=public, key_id=key_id_for(algorithm, public))


def _sm2(private: str, public: str) -> sm2.CryptSM2:
    signer = sm2.CryptSM2(private_key=private, public_key="")
    signer.public_key = public[2:] if len(public) == 130 else public  # x || y, see the module docstring
    return signer


def sm2_public_from_private(private: str) -> str:
    return "04" + _sm2(private, "")._kg(int(private, 16), sm2.default_ecc_table["g"])


@functools.lru_cache(maxsize=64)
def _ed25519_private(private: str) -> Ed25519PrivateKey:
    """The parsed key of a PEM text (parsing it cost more than signing: a case step signs one or two licences
    with its department's key; ``services._private_cache`` already keeps the text in memory)."""
    key = serialization.load_pem_private_key(private.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def sign(algorithm: str, private: str, message: bytes, *, public: str = "") -> bytes:
    """The signature of ``message`` (SM2 needs the public key for its Z value; it is derived when missing)."""
    if algorithm == ED25519:
        return _ed25519_private(private).sign(message)
    if algorithm == SM2:
        signer = _sm2(private, public or sm2_public_from_private(private))
        while True:
            nonce = f"{secrets.randbelow(_SM2_N - 1) + 1:064x}"
            signature = signer.sign_with_sm3(message, nonce)
            if signature:  # None when r or s came out 0: draw another nonce
                return bytes.fromhex(signature)
    raise ValueError(f"unknown algorithm {algorithm!r}")


def verify(algorithm: str, public: str, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public``'s signature of ``message``; never raises on bad input."""
    if len(signature) != 64:
        return False
    if algorithm == ED25519:
        try:
            key = serialization.load_pem_public_key(public.encode())
            if not isinstance(key, Ed25519PublicKey):
                return False
            key.verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True
    if algorithm == SM2:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        if not (0 < r < _SM2_N and 0 < s < _SM2_N):  # GB/T 32918.2 checks these; gmssl does not
            return False
        try:
            return bool(_sm2("", public).verify_with_sm3(signature.hex(), message))
        except (ValueError, TypeError, IndexError):
            return False
    return False
