"""The schema states the limits the server enforces, and the server enforces the limits the schema states.

For every operation that takes a JSON body, each documented limit of a top-level field (maxLength, minLength,
minimum, maximum, enum, maxItems) is broken by one value just past it, and the answer must be a 400 in the error
shape naming that field. The other way round, a field with no documented maximum length gets a very long value,
and one with no documented minimum length an empty one: a 400 naming the field would be a limit the schema hides.
The case operations act on a case of the applicant's own; an operation on an object that the test's city does
not have (a grant, a licence, an offer, a rectification, a ticket: its answer is a 404 before the body is read) is
checked on the request serializer of its view instead, and listed.
"""

import uuid

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tongban.cases import services as case_services
from tongban.core.audit import SYSTEM
from tongban.evaluation import services as evaluation_services
from tongban.hotline import services as hotline_services
from tongban.hotline.models import Ticket
from tongban.identity import services as identity_services
from tongban.identity.selectors import actor_for, department_get
from tongban.identity.tests.fixtures import login_with_second_factor
from tongban.workflow.tests.fixtures import newborn_files, newborn_form

pytestmark = pytest.mark.django_db

LONG = 100_000  # characters: far past any column, inside the 2.5 MB body limit
ROLES = [
    "platform_admin",
    "hotline_operator",
    "dispatcher",
    "supervisor",
    "service_designer",
    "data_steward",
    "dept_handler",
    "dept_approver",
    "dept_head",
    "window_clerk",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    """The schema the server serves, generated once for the module (it depends on the code, not on the data)."""
    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json").json()


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(schema, node["allOf"][0])
    return node


def _body_schema(schema, operation):
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _resolve(schema, content["application/json"]["schema"])


def _valid(schema, prop):
    """A value that meets the property's documented limits."""
    prop = _resolve(schema, prop)
    if "enum" in prop:
        return next(value for value in prop["enum"] if value is not None)
    kind = prop.get("type")
    if kind == "string":
        if prop.get("format") == "uuid":
            return str(uuid.uuid4())
        if prop.get("format") == "date":
            return "2026-01-05"
        return "x" * min(max(prop.get("minLength", 1), 12), prop.get("maxLength", 12))
    if kind == "integer":
        return prop.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return [_valid(schema, prop.get("items", {}))] * prop.get("minItems", 0)
    if kind == "object":
        return {}
    return "x"


def _breaches(schema, prop):
    """(limit, value just past it) for each documented limit of a property."""
    prop = _resolve(schema, prop)
    out = []
    if "maxLength" in prop:
        out.append((f"maxLength {prop['maxLength']}", "x" * (prop["maxLength"] + 1)))
    if prop.get("minLength", 0) >= 1:
        out.append((f"minLength {prop['minLength']}", "x" * (prop["minLength"] - 1)))
    if "minimum" in prop:
        out.append((f"minimum {prop['minimum']}", prop["minimum"] - 1))
    if "maximum" in prop:
        out.append((f"maximum {prop['maximum']}", prop["maximum"] + 1))
    if "enum" in prop:
        out.append(("enum", "no-such-choice"))
    if "maxItems" in prop:
        out.append(
            (f"maxItems {prop['maxItems']}", [_valid(schema, prop.get("items", {}))] * (prop["maxItems"] + 1))
        )
    return out


def _hidden_probes(schema, prop):
    """Values that break a limit the schema does not state: a very long string, an empty one."""
    prop = _resolve(schema, prop)
    if prop.get("type") != "string" or "enum" in prop or prop.get("format") or prop.get("readOnly"):
        return []
    out = []
    if "maxLength" not in prop:
        out.append(("no maxLength", "x" * LONG))
    if prop.get("minLength", 0) == 0:
        out.append(("no minLength", ""))
    return out


class World:
    """Callers and objects to fill the paths with: an administrator with the second factor, a citizen, a case."""

    def __init__(self, citizen, parent, newborn):
        admin = identity_services.user_create(
            actor=SYSTEM, username="limits.admin", password="x-pass-2026", check_password=False
        )
        identity_services.staff_create(
            actor=SYSTEM, user=admin, department=department_get("big-data-center"), roles=ROLES
        )
        self.clients = [login_with_second_factor(Client(), admin), Client(), Client()]
        self.clients[1].force_login(citizen)
        # A case of her own lets the case operations read their bodies (withdraw, rating) instead of a 404.
        self.clients[2].force_login(parent)
        self.case = case_services.case_submit(
            actor=actor_for(parent), service=newborn, form_data=newborn_form(), files=newborn_files()
        )
        self.serializers = _request_serializers()

    def path(self, template, parameters):
        for parameter in parameters:
            if parameter["in"] == "path":
                enum = parameter.get("schema", {}).get("enum")
                value = enum[0] if enum else str(uuid.uuid4())
                if template.startswith("/api/v1/cases/{number}/"):
                    value = self.case.number
                template = template.replace("{" + parameter["name"] + "}", value)
        return template

    def post(self, method, path, body):
        response = None
        response = missing = None
        for client in self.clients:  # the first caller the policy and the object let through
            response = getattr(client, method)(
                path, body, content_type="application/json", headers={"accept-language": "en"}
            )
            if response.status_code not in (401, 403, 404):
                return response
            if response.status_code in (401, 404) and missing is None:
                missing = response
        return missing or response


def _request_serializers():
    """The request serializer each operation documents, by (path, method), from drf-spectacular's generator."""
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    found = {}
    for path, _regex, method, view in generator._get_paths_and_endpoints():
        view.schema.view, view.schema.method, view.schema.path = view, method, path
        found[(path, method.lower())] = view.schema.get_request_serializer()
    return found


def _serializer_errors(serializers, path, method, body):
    """The errors of the operation's request serializer (no object needed)."""
    serializer = serializers[(path, method)]
    if isinstance(serializer, dict):
        serializer = serializer["application/json"]
    instance = serializer(data=body) if isinstance(serializer, type) else type(serializer)(data=body)
    instance.is_valid()
    return instance.errors


def _check(world, schema, path, method, operation, body, field):
    """The field's errors, by the server (``http``) or by the view's serializer when the server says 404 (no such
    object) or 401 (an operation for API clients' tokens, not for these sessions)."""
    url = world.path(path, operation.get("parameters", []))
    response = world.post(method, url, body)
    if response.status_code in (401, 404):
        return "serializer", _serializer_errors(world.serializers, path, method, body).get(field), response
    data = response.json() if response.get("content-type", "").startswith("application/json") else {}
    if response.status_code == 400:
        assert data.get("code") == "invalid" and data.get("status") == 400, data
        return "http", data["errors"].get(field), response
    return "http", None, response


def test_every_documented_limit_is_refused_and_no_refusal_is_undocumented(schema, citizen, parent, newborn):
    world = World(citizen, parent, newborn)
    checked = {"http": 0, "serializer": 0}
    on_serializer = set()
    problems = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body_schema = _body_schema(schema, operation)
            if not body_schema or "properties" not in body_schema:
                continue
            properties = {k: v for k, v in body_schema["properties"].items() if not v.get("readOnly")}
            base = {
                name: _valid(schema, prop)
                for name, prop in properties.items()
                if name in body_schema.get("required", [])
            }
            for name, prop in properties.items():
                for limit, value in _breaches(schema, prop):
                    how, errors, response = _check(
                        world, schema, path, method, operation, {**base, name: value}, name
                    )
                    checked[how] += 1
                    if how == "serializer":
                        on_serializer.add(f"{method.upper()} {path}")
                    if not errors:
                        problems.append(
                            f"{method.upper()} {path} {name}: {limit} documented, not refused "
                            f"({how}: {response.status_code} {response.content[:200]!r})"
                        )
                for probe, value in _hidden_probes(schema, prop):
                    how, errors, response = _check(
                        world, schema, path, method, operation, {**base, name: value}, name
                    )
                    if errors:
                        problems.append(f"{method.upper()} {path} {name}: refused with {probe}: {errors}")
    print("limits checked:", checked, "on the serializer (object needed):", sorted(on_serializer))
    assert not problems, "\n".join(problems)
    assert checked["http"] > 40


def _property(schema, path, method, name, media="application/json"):
    body = _resolve(schema, schema["paths"][path][method]["requestBody"]["content"][media]["schema"])
    prop = _resolve(schema, body["properties"][name])
    return {**prop, "required": name in body.get("required", [])}


def test_the_limits_of_the_services_appear_in_the_schema(schema):
    ticket = "/api/v1/tickets/"
    assert _property(schema, ticket, "post", "text")["maxLength"] == hotline_services.MAX_TEXT
    assert _property(schema, ticket, "post", "text")["minLength"] == 1
    assert _property(schema, ticket, "post", "attachments")["maxItems"] == hotline_services.MAX_ATTACHMENTS
    assert set(_property(schema, ticket, "post", "ticket_type")["enum"]) == set(Ticket.Type.values)
    assert _property(schema, "/api/v1/hotline/faq/", "post", "question")["maxLength"] == 200
    assert _property(schema, "/api/v1/hotline/faq/", "post", "answer")["minLength"] == 10
    rating = _property(schema, "/api/v1/cases/{number}/rating/", "post", "level")
    assert (rating["minimum"], rating["maximum"]) == (1, 5)
    comment = _property(schema, "/api/v1/cases/{number}/rating/", "post", "comment")
    assert comment["maxLength"] == evaluation_services.COMMENT_MAX
    # Non-blank reasons (the services refuse them blank).
    for path, field in [
        ("/api/v1/cases/{number}/withdraw/", "reason"),
        ("/api/v1/cases/{number}/refuse-acceptance/", "reason"),
        ("/api/v1/cases/{number}/refuse-acceptance/", "basis"),
        ("/api/v1/tasks/{task_id}/return/", "opinion"),
        ("/api/v1/licences/{number}/revoke/", "reason"),
        ("/api/v1/rectifications/{id}/close/", "resolution"),
    ]:
        assert _property(schema, path, "post", field)["minLength"] == 1, (path, field)
    assert _property(schema, "/api/v1/licences/{number}/revoke/", "post", "reason")["maxLength"] == 1000
    # The Idempotency-Key header and the submission's body limit (413).
    submit = schema["paths"]["/api/v1/cases/"]["post"]
    header = next(p for p in submit["parameters"] if p["name"] == "Idempotency-Key")
    assert header["schema"]["maxLength"] == 64
    assert "413" in submit["responses"]


def test_an_idempotency_key_over_its_documented_length_is_refused(citizen):
    client = Client()
    client.force_login(citizen)
    response = client.post(
        "/api/v1/cases/", {}, content_type="application/json", headers={"idempotency-key": "k" * 65}
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


def test_every_documented_query_limit_is_refused_and_no_refusal_is_undocumented(
    schema, citizen, parent, newborn
):
    """Query parameters too: a string one past its documented maxLength (or an integer past its maximum) is a
    400 naming the parameter; an undocumented string parameter given 100,000 characters is not refused."""
    world = World(citizen, parent, newborn)
    checked, problems = 0, []
    for path, operations in schema["paths"].items():
        if "{" in path:
            continue
        get = operations.get("get")
        if get is None:
            continue
        for parameter in get.get("parameters", []):
            if parameter["in"] != "query" or parameter["name"] == "cursor":
                continue  # a cursor is an opaque token the list gave out: refused for its content, not length
            name, prop = parameter["name"], parameter.get("schema", {})
            if prop.get("maxLength"):
                value, documented = "x" * (prop["maxLength"] + 1), True
            elif "maximum" in prop:
                value, documented = str(prop["maximum"] + 1), True
            elif prop.get("type") == "string" and not prop.get("enum") and not prop.get("format"):
                value, documented = "x" * LONG, False
            else:
                continue
            response = None
            for client in world.clients:  # the first caller the policy lets through
                response = client.get(path, {name: value}, headers={"accept-language": "en"})
                if response.status_code not in (401, 403):
                    break
            assert response.status_code < 500, (path, name, response.status_code)
            refused = response.status_code == 400 and name in response.json().get("errors", {})
            if response.status_code in (401, 403):
                continue
            checked += 1
            if documented and not refused:
                problems.append(f"GET {path} ?{name}: limit documented, not refused ({response.status_code})")
            if not documented and refused:
                problems.append(
                    f"GET {path} ?{name}: refused, no limit documented: {response.json()['errors']}"
                )
    assert not problems, "\n".join(problems)
    assert checked >= 10
