"""The "who acts" contract, read from the source: every app's write services take the acting person as a typed
``actor=`` (keyword-only), never as ``user=`` or an HTTP ``request``.

A service may still take a ``user`` that is the *object* acted on (the account a person is linked to, the agent
added to an organisation, the staff member's account); those few are listed in ``SUBJECT_USER`` with the reason.
"""

import ast
import pathlib

SRC = pathlib.Path(__file__).resolve().parents[2]

# Parameter names that would carry the acting person (or the request it came in).
ACTING = ("user", "request")

# (app, service, parameter): why that parameter is the subject of the action, not who acts.
SUBJECT_USER = {
    ("identity", "person_create", "user"): "the account the new person is linked to",
    ("identity", "organisation_agent_add", "user"): "the agent added to the organisation",
    ("identity", "organisation_agent_remove", "user"): "the agent removed from the organisation",
    ("identity", "staff_create", "user"): "the account that becomes a staff member",
    ("identity", "totp_device_ensure", "user"): "the account whose second-factor device is set up",
    ("identity", "totp_device_reset", "user"): "the account whose second-factor devices are removed",
}


def _service_modules() -> list[pathlib.Path]:
    paths = sorted(SRC.glob("*/services.py")) + sorted(SRC.glob("*/services/*.py"))
    return [path for path in paths if "tests" not in path.parts]


def _public_functions(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            yield node


def _app(path: pathlib.Path) -> str:
    return path.relative_to(SRC).parts[0]


def _parameters(node) -> list[ast.arg]:
    args = node.args
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *filter(None, (args.vararg, args.kwarg))]


def test_the_scan_finds_the_services_of_every_app():
    apps = {_app(path) for path in _service_modules()}
    assert {"cases", "hotline", "proactive", "messaging", "exchange", "workflow", "workbench"} <= apps


def test_no_service_takes_the_acting_person_as_user_or_request():
    found = []
    for path in _service_modules():
        for node in _public_functions(path):
            for arg in _parameters(node):
                key = (_app(path), node.name, arg.arg)
                if arg.arg in ACTING and key not in SUBJECT_USER:
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}({arg.arg}=...)")
    assert not found, "services must take actor= (identity.selectors.UserActor), not:\n" + "\n".join(found)


# Checks, not writes, read like ``has_permission(actor, perm)``: the actor may come first, positionally.
CHECK_PREFIXES = ("can_", "require_")


def test_actor_is_keyword_only_wherever_a_service_takes_it():
    found = []
    for path in _service_modules():
        for node in _public_functions(path):
            if node.name.startswith(CHECK_PREFIXES):
                continue
            positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
            if "actor" in positional:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert not found, "actor must be keyword-only:\n" + "\n".join(found)


def test_the_allow_list_names_only_services_that_exist_with_that_parameter():
    existing = {
        (_app(path), node.name, arg.arg)
        for path in _service_modules()
        for node in _public_functions(path)
        for arg in _parameters(node)
    }
    assert set(SUBJECT_USER) <= existing
