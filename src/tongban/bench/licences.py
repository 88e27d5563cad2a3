"""``tongban bench licences``: licence signatures and verifications per second, Ed25519 and SM2.

For each algorithm it measures the bare cryptography (sign and verify a typical ~600-byte canonical payload),
then the service paths: ``licence_issue`` (validate, sign, insert, audit, event) and ``licence_verify`` (parse
the token, read the licence and its key from the database, verify, compare with the register). One process.

Issuing writes licences and audit entries, which cannot be deleted afterwards, so run it on a scratch database::

    TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate && TONGBAN_VAR_DIR=/tmp/tb-bench tongban bench licences
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import CommandError

from tongban.core.audit import SYSTEM
from tongban.core.bench import benchmark
from tongban.licences import crypto

BENCH_DEPARTMENTS = {crypto.ED25519: "health", crypto.SM2: "health-310101"}
SAMPLE_DATA = {
    "baby_name": "测试宝宝",
    "baby_sex": "女",
    "birth_date": "2026-03-01",
    "birth_time": "08:30",
    "birth_weight_g": 3250,
    "birth_hospital": "上海市第一妇婴保健院",
    "mother_name": "测试母亲",
    "mother_resident_id": "310101199001011000",
    "father_name": "测试父亲",
    "father_resident_id": "310101198901011011",
}


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def _timed(func, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        func()
    return time.perf_counter() - started


def _holder():
    from tongban.core.ids import make_resident_id
    from tongban.identity import services as identity
    from tongban.identity.models import Person

    resident_id = make_resident_id("310101", dt.date(1990, 1, 1), 998)
    person = Person.objects.filter(resident_id=resident_id).first()
    return person or identity.person_create(actor=SYSTEM, resident_id=resident_id, name="证照测试")


@benchmark(
    "licences",
    help="e-licence signatures and verifications per second (Ed25519 and SM2), crypto and service paths",
    arguments=[
        (("--ed25519",), {"type": int, "default": 2000, "help": "operations for Ed25519 (default 2,000)"}),
        (("--sm2",), {"type": int, "default": 200, "help": "operations for SM2 (default 200)"}),
    ],
)
def bench_licences(*, stdout, options):
    from tongban.identity.models import Person
    from tongban.identity.services import departments_ensure
    from tongban.licences import services, signing

    counts = {crypto.ED25519: options["ed25519"], crypto.SM2: options["sm2"]}
    if min(counts.values()) < 1:
        raise CommandError("--ed25519 and --sm2 must be at least 1")
    if not options.get("scratch_checked") and Person.objects.count() > 100:
        raise CommandError(
            "tongban bench licences issues licences that cannot be deleted (the audit log refuses it): run it on "
            "a scratch database, e.g. TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate, then run it there."
        )
    departments_ensure()
    services.licence_types_demo_ensure()
    holder = _holder()
    payload = signing.canonical_json(
        {
            "v": 1,
            "number": "BMC-2026-ABCDEFGH",
            "type": "birth-medical-certificate",
            "holder_name": "证照测试",
            "holder_id": holder.resident_id,
            "data": SAMPLE_DATA,
            "issued_at": "2026-03-01T08:00:00Z",
            "valid_until": None,
            "issuer": "health",
            "key_id": "0123456789abcdef",
        }
    )
    figures: dict = {"payload_bytes": len(payload)}
    for algorithm, count in counts.items():
        pair = crypto.generate(algorithm)
        signature = crypto.sign(algorithm, pair.private, payload, public=pair.public)
        sign_s = _timed(
            lambda a=algorithm, p=pair: crypto.sign(a, p.private, payload, public=p.public), count
        )
        verify_s = _timed(
            lambda a=algorithm, p=pair, s=signature: crypto.verify(a, p.public, payload, s), count
        )
        department = BENCH_DEPARTMENTS[algorithm]
        services.key_ensure(department=department, algorithm=algorithm)
        issue_count = max(1, count // 4)
        issued = []
        started = time.perf_counter()
        for _ in range(issue_count):
            issued.append(
                services.licence_issue(
                    actor=SYSTEM,
                    type="birth-medical-certificate",
                    data=SAMPLE_DATA,
                    department=department,
                    holder_person=holder,
                )
            )
        issue_s = time.perf_counter() - started
        token = services.licence_token(issued[-1])
        if services.licence_verify(token).status != services.VALID:
            raise CommandError(f"{algorithm}: a fresh licence did not verify")
        full_verify_s = _timed(lambda t=token: services.licence_verify(t), count)
        figures[algorithm] = {
            "sign_per_s": _rate(count, sign_s),
            "verify_per_s": _rate(count, verify_s),
            "issue_per_s": _rate(issue_count, issue_s),
            "licence_verify_per_s": _rate(count, full_verify_s),
            "token_chars": len(token),
        }
        row = figures[algorithm]
        stdout.write(
            f"{algorithm}: sign {row['sign_per_s']:,.1f}/s, verify {row['verify_per_s']:,.1f}/s "
            f"(payload {len(payload)} bytes); licence_issue {row['issue_per_s']:,.1f}/s, "
            f"licence_verify with the database read {row['licence_verify_per_s']:,.1f}/s "
            f"(token {row['token_chars']} characters).\n"
        )
    return figures
