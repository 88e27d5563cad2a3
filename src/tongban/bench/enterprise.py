"""``tongban bench enterprise``: certificate sign-ins and signatures per second, and the policy check per enterprise.

1. **Sign-in.** An organisation certificate and an agent certificate are issued (through the services, with the
   register check); then N sign-ins run ``certificate_login_check`` (a fresh challenge each, the certificate's
   row, its chain verified against the root file, the ECDSA signature, the use recorded) and N submissions'
   signatures are verified (``ca.signature_verify`` over a 2 KB payload).
2. **Policy check.** M enterprises with eight quarters of figures; one active policy; ``enterprise_profile_check``
   for each (four audited lookups through the data hub, the life event, the rule, a message for the eligible).
   The daily sweep does this for every enterprise: the figure says what a sweep of the city costs.

It writes audit entries, certificates and enterprises that cannot be deleted: run it on a scratch database::

    TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate && TONGBAN_VAR_DIR=/tmp/tb-bench tongban bench enterprise
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import time
from decimal import Decimal

from django.core.management.base import CommandError

from tongban.core.audit import SYSTEM
from tongban.core.bench import benchmark

BENCH_PREFIX = "基准企业"


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def _enterprise(index: int, representative=None):
    from tongban.core.ids import make_credit_code
    from tongban.exchange import registry_services as registers
    from tongban.identity import services as identity
    from tongban.identity.models import AdminUnit, Organisation

    code = make_credit_code("310104", f"MB{index:06d}")
    found = Organisation.objects.filter(credit_code=code).first()
    if found is not None:
        return found
    org = identity.organisation_create(
        actor=SYSTEM,
        credit_code=code,
        name=f"{BENCH_PREFIX}{index}有限公司",
        legal_representative=representative,
        district=AdminUnit.objects.get(code="310104"),
    )
    registers.business_register(
        actor=SYSTEM,
        organisation=org,
        business_scope="制造",
        registered_on=dt.date(2015, 1, 5),
        industry_code="C3484",
    )
    registers.tax_register(actor=SYSTEM, organisation=org, registered_on=dt.date(2015, 1, 9))
    registers.tax_credit_rate(actor=SYSTEM, organisation=org, rating="A")
    from tongban.demo.enterprise import quarters_before

    for step, quarter in enumerate(quarters_before(dt.date(2026, 12, 1))):
        registers.employer_quarter_report(
            actor=SYSTEM, organisation=org, quarter=quarter, insured=20 + step * (index % 5)
        )
        registers.tax_quarter_file(
            actor=SYSTEM,
            organisation=org,
            quarter=quarter,
            revenue=Decimal(200 + step),
            tax_paid=Decimal(10 + step),
        )
    return org


@benchmark(
    "enterprise",
    help="法人一证通 sign-ins and signature checks per second; 惠企政策 checks per enterprise",
    arguments=[
        (("--logins",), {"type": int, "default": 500, "help": "certificate sign-ins (default 500)"}),
        (
            ("--enterprises",),
            {"type": int, "default": 200, "help": "enterprises checked against a policy (200)"},
        ),
    ],
)
def bench_enterprise(*, stdout, options):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tongban.core.ids import make_resident_id
    from tongban.enterprise import ca, services
    from tongban.exchange.services import data_resources_sync
    from tongban.identity import services as identity
    from tongban.identity.models import Organisation, Person
    from tongban.identity.selectors import actor_for, department_get
    from tongban.messaging.demo import message_templates_demo_ensure
    from tongban.proactive.enterprise import enterprise_profile_check, enterprise_reads_grant, policy_create
    from tongban.proactive.selectors import policy_get

    logins, enterprises = options["logins"], options["enterprises"]
    if min(logins, enterprises) < 1:
        raise CommandError("--logins and --enterprises must be at least 1")
    if not options.get("scratch_checked") and Person.objects.count() > 100:
        raise CommandError(
            "tongban bench enterprise writes certificates and enterprises that cannot be deleted: run it on a "
            "scratch database, e.g. TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate, then run it there."
        )
    identity.departments_ensure()
    data_resources_sync()
    services.enterprise_reads_grant()
    enterprise_reads_grant()
    message_templates_demo_ensure()
    resident_id = make_resident_id("310104", dt.date(1980, 2, 2), 997)
    person = Person.objects.filter(resident_id=resident_id).select_related("user").first()
    if person is None:
        user = identity.user_create(
            actor=SYSTEM,
            username="bench.representative",
            password=secrets.token_urlsafe(16),
            check_password=False,
        )
        person = identity.person_create(actor=SYSTEM, resident_id=resident_id, name="基准代表", user=user)
    representative = person.user
    org = _enterprise(0, representative=person)
    key = ec.generate_private_key(ec.SECP256R1())
    spki = base64.b64encode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()

    def signed(text: str) -> str:
        return base64.b64encode(key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))).decode()

    if services.organisation_certificate_current(org) is None:
        services.organisation_certificate_issue(actor=actor_for(representative), organisation=org)
    nonce = services.challenge_create().nonce
    request = services.certificate_request(
        actor=actor_for(representative),
        organisation=org,
        public_key=spki,
        nonce=nonce,
        signature=signed(services.LOGIN_PREFIX + nonce),
    )
    cert = services.agent_certificate_issue(
        actor=actor_for(representative), certificate_request=request, scopes=["login", "sign"], valid_days=30
    )
    started = time.perf_counter()
    for _ in range(logins):
        nonce = services.challenge_create().nonce
        services.certificate_login_check(
            serial=cert.serial, nonce=nonce, signature=signed(services.LOGIN_PREFIX + nonce)
        )
    login_s = time.perf_counter() - started
    payload = ("{" + '"form":"' + "测" * 680 + '"}').encode()
    signature = base64.b64decode(signed(payload.decode()))
    started = time.perf_counter()
    for _ in range(logins):
        ca.signature_verify(cert.pem, payload, signature)
    verify_s = time.perf_counter() - started

    orgs = [_enterprise(i) for i in range(1, enterprises + 1)]
    if policy_get("bench-policy") is None:
        policy_create(
            actor=SYSTEM,
            code="bench-policy",
            name_zh="基准政策",
            department=department_get("hrss"),
            condition='industry_section == "C" and headcount >= 30 and tax_credit_rating == "A"',
            action="notify",
        )
    run = time.strftime("%H%M%S")
    started = time.perf_counter()
    offers = 0
    for org in orgs:
        offers += len(enterprise_profile_check(organisation=org, key=f"bench:{run}"))
    check_s = time.perf_counter() - started
    figures = {
        "sign_in_per_s": _rate(logins, login_s),
        "signature_verify_per_s": _rate(logins, verify_s),
        "payload_bytes": len(payload),
        "policy_checks_per_s": _rate(len(orgs), check_s),
        "policy_check_ms": round(check_s * 1000 / len(orgs), 2),
        "enterprises": len(orgs),
        "offers": offers,
        "organisations_in_database": Organisation.objects.count(),
    }
    stdout.write(
        f"certificate sign-in checks {figures['sign_in_per_s']:,.1f}/s; signature verifications "
        f"{figures['signature_verify_per_s']:,.1f}/s ({len(payload)} bytes); policy checks "
        f"{figures['policy_checks_per_s']:,.1f} enterprises/s ({figures['policy_check_ms']} ms each, {offers} told).\n"
    )
    return figures
