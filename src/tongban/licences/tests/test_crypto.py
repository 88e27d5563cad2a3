"""The signature algorithms on their own, and their agreement with OpenSSL for SM2."""

import pytest

from tongban.licences import crypto

# Made with OpenSSL 3.0 (``openssl genpkey -algorithm SM2``; ``openssl pkeyutl -sign -rawin -digest sm3
# -pkeyopt distid:1234567812345678``): the public key (04||x||y), the message and the signature r||s.
OPENSSL_SM2_PUBLIC = (
    "04ef05cb2a33e5987a0dfdf952e44332daeea41fd6788020eaa16f853385ed1805"
    "2da60f7e1132916c1973ffcb7395cfaff45da4f312cc59fb29ed07a0f45b312c"
)
OPENSSL_SM2_MESSAGE = '{"a":1,"b":"中"}'.encode()
OPENSSL_SM2_SIGNATURE = bytes.fromhex(
    "6f47d9e417c9ff0d5d1d27cf60f4fb6235ce1f5af0d4f0089ed2c9ef865c9a8e"
    "22fd7975826bbae79f988f0fd9ff4d43029d586c5c7df4ce8ab57efcea5745de"
)


@pytest.mark.parametrize("algorithm", crypto.ALGORITHMS)
def test_a_signature_verifies_and_a_changed_message_or_signature_does_not(algorithm):
    pair = crypto.generate(algorithm)
    message = b'{"number":"BMC-2026-ABCDEFGH"}'
    signature = crypto.sign(algorithm, pair.private, message, public=pair.public)
    assert len(signature) == 64
    assert crypto.verify(algorithm, pair.public, message, signature)
    assert not crypto.verify(algorithm, pair.public, message + b" ", signature)
    changed = bytearray(signature)
    changed[10] ^= 0x01
    assert not crypto.verify(algorithm, pair.public, message, bytes(changed))
    other = crypto.generate(algorithm)
    assert not crypto.verify(algorithm, other.public, message, signature)
    assert not crypto.verify(algorithm, pair.public, message, signature[:-1])


def test_sm2_verifies_a_signature_made_by_openssl():
    assert crypto.verify("sm2", OPENSSL_SM2_PUBLIC, OPENSSL_SM2_MESSAGE, OPENSSL_SM2_SIGNATURE)
    assert not crypto.verify("sm2", OPENSSL_SM2_PUBLIC, OPENSSL_SM2_MESSAGE + b" ", OPENSSL_SM2_SIGNATURE)


def test_sm2_refuses_r_or_s_out_of_range():
    pair = crypto.generate("sm2")
    assert not crypto.verify("sm2", pair.public, b"x", bytes(64))
    assert not crypto.verify("sm2", pair.public, b"x", b"\xff" * 64)


def test_sm2_public_key_is_derived_from_the_private_key():
    pair = crypto.generate("sm2")
    assert pair.public.startswith("04") and len(pair.public) == 130
    assert crypto.sm2_public_from_private(pair.private) == pair.public
    # Signing without the public key derives it (for the Z value) and still verifies.
    assert crypto.verify("sm2", pair.public, b"m", crypto.sign("sm2", pair.private, b"m"))


def test_sm2_public_keys_starting_with_zero_or_four_are_kept_whole():
    """gmssl strips a leading "04" with lstrip, which also eats x's leading 0 or 4 digits; we do not."""
    for _attempt in range(200):
        pair = crypto.generate("sm2")
        if pair.public[2] in "04":
            break
    else:
        pytest.skip("no key with such an x drawn")
    message = b"payload"
    assert crypto.verify(
        "sm2", pair.public, message, crypto.sign("sm2", pair.private, message, public=pair.public)
    )


def test_key_ids_differ_by_key_and_algorithm():
    a, b = crypto.generate("ed25519"), crypto.generate("ed25519")
    assert a.key_id != b.key_id
    assert len(a.key_id) == 16
