"""Fixtures of the enterprise tests: a CA directory per test, an enterprise with its legal representative (the
``citizen`` fixture's person) and an agent, the grants the CA reads the register with, and browser-like keys."""

import base64
import datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tongban.core.audit import SYSTEM
from tongban.core.ids import make_credit_code
from tongban.enterprise import services
from tongban.exchange import registry_services
from tongban.exchange.services import data_resources_sync
from tongban.identity import services as identity
from tongban.identity.models import AdminUnit, Person

AGENT_PASSWORD = "agent-pass-2026"


@pytest.fixture(autouse=True)
def ca_dir(settings, tmp_path):
    settings.TONGBAN_ENTERPRISE_CA_DIR = tmp_path / "enterprise-ca"
    return settings.TONGBAN_ENTERPRISE_CA_DIR


@pytest.fixture
def register_grants(city):
    data_resources_sync(actor=SYSTEM)
    services.enterprise_reads_grant(actor=SYSTEM)


@pytest.fixture
def organisation(citizen, register_grants):
    """An active enterprise of Xuhui whose legal representative is the ``citizen`` fixture's person."""
    person = Person.objects.get(user=citizen)
    org = identity.organisation_create(
        actor=SYSTEM,
        credit_code=make_credit_code("310104", "MA1K2P3Q"),
        name="上海测试精密制造有限公司",
        legal_representative=person,
        district=AdminUnit.objects.get(code="310104"),
    )
    registry_services.business_register(
        actor=SYSTEM,
        organisation=org,
        business_scope="精密零件制造",
        registered_on=datetime.date(2015, 3, 2),
        industry_code="C3484",
    )
    return org


@pytest.fixture
def agent(organisation):
    user = identity.user_create(
        actor=SYSTEM,
        username="agent.zhao",
        password=AGENT_PASSWORD,
        first_name="敏",
        last_name="赵",
        check_password=False,
    )
    identity.organisation_agent_add(actor=SYSTEM, organisation=organisation, user=user)
    return user


class BrowserKey:
    """An agent's P-256 key signing as WebCrypto does (r‖s, base64)."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())

    @property
    def spki(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, data: bytes | str) -> str:
        if isinstance(data, str):
            data = data.encode()
        r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
        return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()

    def sign_challenge(self, nonce: str) -> str:
        return self.sign(services.LOGIN_PREFIX + nonce)


@pytest.fixture
def browser_key():
    return BrowserKey()


def issue_agent_certificate(*, representative, organisation, agent, key, scopes=("login", "sign"), days=365):
    """The whole issuing path: the representative's organisation certificate (if missing), the agent's
    request with a proof of possession, the representative's decision."""
    from tongban.identity.selectors import actor_for

    if services.organisation_certificate_current(organisation) is None:
        services.organisation_certificate_issue(actor=actor_for(representative), organisation=organisation)
    nonce = services.challenge_create().nonce
    request = services.certificate_request(
        actor=actor_for(agent),
        organisation=organisation,
        public_key=key.spki,
        nonce=nonce,
        signature=key.sign_challenge(nonce),
    )
    return services.agent_certificate_issue(
        actor=actor_for(representative), certificate_request=request, scopes=list(scopes), valid_days=days
    )


@pytest.fixture
def sign_item(city):
    """A small enterprise item: one text field and an optional design drawing to upload."""
    from tongban.catalog import services as catalog
    from tongban.catalog.models import PublicationStatus
    from tongban.identity.selectors import department_get
    from tongban.workflow.services import definitions_ensure_builtin, forget_department_cache

    forget_department_cache()
    definitions_ensure_builtin(actor=SYSTEM)
    return catalog.item_create(
        actor=SYSTEM,
        code="test-ad-permit",
        basic_code="test-ad-permit",
        name_zh="户外招牌设置（测试）",
        name_en="Shop sign (test)",
        item_type="licence",
        legal_basis="《城市市容和环境卫生管理条例》",
        department=department_get("market-regulation"),
        legal_limit_days=20,
        promised_limit_days=10,
        handling_modes=["online"],
        result_type="record",
        result_name="招牌设置",
        service_object="organisation",
        form_schema={
            "type": "object",
            "properties": {
                "sign_text": {"type": "string", "title": "招牌文字", "minLength": 1, "maxLength": 40}
            },
            "required": ["sign_text"],
        },
        materials=[
            {
                "code": "sign-design",
                "name": "招牌设计图",
                "name_en": "Design drawing",
                "necessity": "optional",
            }
        ],
        status=PublicationStatus.PUBLISHED,
    )


@pytest.fixture
def org_case(organisation, agent, sign_item):
    """A case the agent submitted for the enterprise (a small item with no materials)."""
    from tongban.cases.services import case_submit
    from tongban.identity.selectors import actor_for

    return case_submit(
        actor=actor_for(agent),
        service=sign_item,
        form_data={"sign_text": "测试精密"},
        applicant_organisation=organisation,
    )
