"""Signatures made with a submission: what an applicant signs is the submission as sent, checked before a case is
written and kept in the case's own transaction.

The case engine does not know certificates. The app that issues them (``enterprise``: 法人一证通) registers a
``SubmissionSigner`` when it is ready; the application form and the API ask it which certificates the acting
user may sign with, and hand it the signed text, the certificate's serial and the signature. The signer refuses
(``ValidationError`` on ``signature``, nothing written) or returns a keeper that ``case_submit`` calls with the
new case inside the transaction that writes it: a signed submission is never a case without its signature.

What is signed:
- on the web form, ``form_canonical(post, files)``: the posted fields (all values, sorted by name; line ends as
  ``\\n``), each uploaded file by name, size and SHA-256, and nothing else. The browser builds the same text from
  the form (``enterprise/static/enterprise/certificate.js``) before sending it, so the signature covers exactly
  the values that reach the server, and the form's one-time ``idempotency_key`` keeps a signature from being
  replayed as a second case;
- through the API, the request body's bytes as sent (JSON), with the certificate and signature in headers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SIGNED_FIELDS = ("tb_signature", "tb_signature_serial", "csrfmiddlewaretoken")
SIGNATURE_FIELD = "tb_signature"
SERIAL_FIELD = "tb_signature_serial"
HEADER_SERIAL = "Tongban-Certificate"
HEADER_SIGNATURE = "Tongban-Certificate-Signature"


@dataclass(frozen=True)
class SubmissionSigner:
    # (user, organisation) -> [{"serial", "spki"}]: certificates the user may sign the organisation's
    # submissions with now (the page offers the matching key kept in the browser).
    certificates_for: Callable[[Any, Any], list[dict]]
    # (actor, organisation, payload, serial, signature, address) -> keeper(case): verifies or raises
    # ValidationError({"signature": ...}); the keeper records the signature with the case.
    prepare: Callable[..., Callable[[Any], None]]


_signer: SubmissionSigner | None = None


def signer_register(signer: SubmissionSigner) -> None:
    global _signer  # one registry, set once when the issuing app is ready
    _signer = signer


def signer() -> SubmissionSigner | None:
    return _signer


def signing_certificates(user, organisation) -> list[dict]:
    """The certificates ``user`` may sign ``organisation``'s submissions with now (none without a signer)."""
    if _signer is None or organisation is None or not getattr(user, "is_authenticated", False):
        return []
    return _signer.certificates_for(user, organisation)


def _text(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def form_canonical(post, files: Mapping) -> str:
    """The canonical text of a web form as sent: ``{"fields": {name: [values]}, "files": {name: [{name, size,
    sha256}]}, "v": 2}`` as JSON with sorted keys, no spaces, UTF-8. ``post`` is a QueryDict (or a mapping of
    lists); ``files`` a MultiValueDict of uploads (read and rewound)."""
    lists = post.lists() if hasattr(post, "lists") else post.items()
    fields = {
        name: [_text(str(value)) for value in values] for name, values in lists if name not in SIGNED_FIELDS
    }
    uploads: dict[str, list[dict]] = {}
    file_lists = files.lists() if hasattr(files, "lists") else files.items()
    for name, items in file_lists:
        for upload in items if isinstance(items, list | tuple) else [items]:
            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            uploads.setdefault(name, []).append(
                {"name": upload.name, "size": upload.size, "sha256": digest.hexdigest()}
            )
    body = {"v": 2, "fields": fields, "files": uploads}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
