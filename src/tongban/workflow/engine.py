"""SpiffWorkflow behind one small surface: parse and check a BPMN file, run a workflow, (de)serialise it.

Expressions (gateway conditions) run in a restricted evaluator (``simpleeval``): names from the task data,
literals, comparisons and boolean logic, no attribute access to private names, no imports, no calls but a few
safe functions. Script tasks are refused when a process is uploaded, so no Python is ever executed from a
process file.

Lanes name who does a user task: ``<department code>/<role>`` for a municipal department, or
``<department code>@district/<role>`` for the department's branch in the district with jurisdiction over the
case (全市通办: wherever the case was accepted). ``*/<role>`` is the implementing department of the case's
service item, for processes shared by many items. A user task may carry ``tongban:limitDays="2"`` (its time
limit in working days; 1 when absent).
"""

from __future__ import annotations

import ast
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from uuid import UUID

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lxml import etree
from simpleeval import EvalWithCompoundTypes, InvalidExpression
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
TONGBAN_NS = "https://tongban.org/bpmn"
DISTRICT_SUFFIX = "@district"
SERVICE_DEPARTMENT = "*"  # the implementing department of the case's service item
MAX_BPMN_BYTES = 1_000_000
FORBIDDEN_ELEMENTS = (
    "scriptTask",
    "serviceTask",
    "callActivity",
    "subProcess",
    "sendTask",
    "businessRuleTask",
)
SAFE_FUNCTIONS = {"len": len, "min": min, "max": max, "abs": abs, "int": int, "str": str, "bool": bool}


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluate expressions with simpleeval over the task data; refuse to execute scripts."""

    def evaluate(self, expression, context, external_context=None):
        names = dict(context)
        if external_context:
            names.update(external_context)
        evaluator = EvalWithCompoundTypes(names=names, functions=SAFE_FUNCTIONS)
        return evaluator.eval(expression)

    def execute(self, script, context, external_context=None):
        raise SpiffWorkflowException("scripts are not allowed in Tongban processes")

    def call_service(self, context, **kwargs):
        raise SpiffWorkflowException("service calls are not allowed in Tongban processes")


class RestrictedScriptEngine(PythonScriptEngine):
    def __init__(self):
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression):
        check_expression(expression)


SCRIPT_ENGINE = RestrictedScriptEngine()
SERIALIZER = BpmnWorkflowSerializer()


_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.Subscript,
    ast.Call,
    ast.IfExp,
    ast.And,
    ast.Or,
    ast.Not,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Mod,
    ast.USub,
    ast.UAdd,
    ast.Slice,
)


def check_expression(expression: str) -> None:
    """Raise ValueError unless ``expression`` uses only what the restricted evaluator allows."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"syntax error in {expression!r}: {exc.msg}") from exc
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(f"{type(node).__name__} is not allowed in {expression!r}")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in SAFE_FUNCTIONS
        ):
            raise ValueError(f"only {', '.join(sorted(SAFE_FUNCTIONS))} may be called in {expression!r}")
    try:
        EvalWithCompoundTypes(functions=SAFE_FUNCTIONS).parse(expression.strip())
    except (InvalidExpression, SyntaxError) as exc:  # pragma: no cover - ast check above catches these first
        raise ValueError(str(exc)) from exc


@dataclass(frozen=True)
class Lane:
    name: str
    department: str
    role: str
    district: bool

    def as_dict(self):
        return {"department": self.department, "role": self.role, "district": self.district}


@dataclass
class ParsedProcess:
    process_id: str
    name: str
    lanes: dict[str, dict]
    user_tasks: list[dict]
    checksum: str
    xml: str
    spec: object = field(repr=False, default=None)


def parse_lane(name: str, *, departments, roles) -> Lane:
    """``public-security@district/dept_handler`` → Lane; ValueError with the reason otherwise."""
    text = (name or "").strip()
    if "/" not in text:
        raise ValueError(_("Lane %(lane)r must be named DEPARTMENT/ROLE.") % {"lane": text})
    department, role = (part.strip() for part in text.split("/", 1))
    district = department.endswith(DISTRICT_SUFFIX)
    if district:
        department = department[: -len(DISTRICT_SUFFIX)]
    if department != SERVICE_DEPARTMENT and department not in departments:
        raise ValueError(
            _("Lane %(lane)r refers to an unknown department %(dept)r.") % {"lane": text, "dept": department}
        )
    if role not in roles:
        raise ValueError(
            _("Lane %(lane)r refers to an unknown role %(role)r.") % {"lane": text, "role": role}
        )
    return Lane(text, department, role, district)


def _fail(message: str):
    raise ValidationError({"bpmn": [message]})


def parse_process(xml: str | bytes, *, departments, roles) -> ParsedProcess:
    """Parse and check a BPMN 2.0 file; a ValidationError on ``bpmn`` says what is wrong.

    ``departments`` are the known municipal department codes; ``roles`` the roles that may work tasks.
    Exactly one executable process; every user task in a lane that names a known department and role; no script,
    service or sub-process elements; every condition a restricted expression.
    """
    data = xml.encode() if isinstance(xml, str) else bytes(xml)
    if len(data) > MAX_BPMN_BYTES:
        _fail(_("The file is larger than %(n)s bytes.") % {"n": MAX_BPMN_BYTES})
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        _fail(_("The file is not well-formed XML: %(error)s") % {"error": exc})
    if root.tag != f"{{{BPMN_NS}}}definitions":
        _fail(_("The file is not a BPMN 2.0 definitions document."))
    for tag in FORBIDDEN_ELEMENTS:
        found = root.find(f".//{{{BPMN_NS}}}{tag}")
        if found is not None:
            _fail(
                _(
                    "%(tag)s %(id)r is not allowed: Tongban processes use user tasks, gateways and events only."
                )
                % {"tag": tag, "id": found.get("id")}
            )
    processes = [p for p in root.findall(f"{{{BPMN_NS}}}process") if p.get("isExecutable", "true") != "false"]
    if len(processes) != 1:
        _fail(_("The file must hold exactly one executable process, not %(n)s.") % {"n": len(processes)})
    process = processes[0]
    process_id = process.get("id")
    lanes_by_node: dict[str, Lane] = {}
    lanes: dict[str, dict] = {}
    for lane_el in process.iter(f"{{{BPMN_NS}}}lane"):
        try:
            lane = parse_lane(lane_el.get("name", ""), departments=departments, roles=roles)
        except ValueError as exc:
            _fail(str(exc))
        lanes[lane.name] = lane.as_dict()
        for ref in lane_el.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes_by_node[(ref.text or "").strip()] = lane
    user_tasks = []
    for task_el in process.iter(f"{{{BPMN_NS}}}userTask"):
        task_id = task_el.get("id")
        lane = lanes_by_node.get(task_id)
        if lane is None:
            _fail(_("User task %(id)r is in no lane: say which department role does it.") % {"id": task_id})
        limit = task_el.get(f"{{{TONGBAN_NS}}}limitDays", "1")
        try:
            limit_days = int(limit)
            if not 1 <= limit_days <= 60:
                raise ValueError
        except ValueError:
            _fail(
                _("User task %(id)r has an invalid limitDays %(v)r (1 to 60).") % {"id": task_id, "v": limit}
            )
        user_tasks.append(
            {
                "id": task_id,
                "name": task_el.get("name") or task_id,
                # The step's name for English pages (``tongban:nameEn``), and the bundle's service item the step
                # handles (``tongban:item``): a case that does not take that item skips the step.
                "name_en": (task_el.get(f"{{{TONGBAN_NS}}}nameEn") or "").strip(),
                "item": (task_el.get(f"{{{TONGBAN_NS}}}item") or "").strip(),
                "lane": lane.name,
                "limit_days": limit_days,
            }
        )
    if not user_tasks:
        _fail(_("The process has no user task."))
    for condition in process.iter(f"{{{BPMN_NS}}}conditionExpression"):
        try:
            check_expression(condition.text or "")
        except ValueError as exc:
            _fail(_("Condition not allowed: %(error)s") % {"error": exc})
    parser = BpmnParser()
    try:
        parser.add_bpmn_xml(root, filename=f"{process_id}.bpmn")
        spec = parser.get_spec(process_id)
    except (ValidationException, SpiffWorkflowException, ValueError, KeyError) as exc:
        _fail(_("The process cannot be run: %(error)s") % {"error": exc})
    return ParsedProcess(
        process_id=process_id,
        name=process.get("name") or process_id,
        lanes=lanes,
        user_tasks=user_tasks,
        checksum=hashlib.sha256(data).hexdigest(),
        xml=data.decode(),
        spec=spec,
    )


# --- running -------------------------------------------------------------------------------------------

_spec_cache: dict[tuple, object] = {}
_spec_lock = threading.Lock()


def spec_for(definition_id, checksum: str, xml, process_id: str):
    """The parsed spec of a definition, parsed once per process (definitions never change once stored).

    ``xml`` is the BPMN text or a function that fetches it (only called when the spec is not cached yet).
    """
    key = (str(definition_id), checksum)
    spec = _spec_cache.get(key)
    if spec is None:
        xml = xml() if callable(xml) else xml
        parser = BpmnParser()
        parser.add_bpmn_xml(etree.fromstring(xml.encode()), filename=f"{process_id}.bpmn")
        spec = parser.get_spec(process_id)
        with _spec_lock:
            _spec_cache[key] = spec
    return spec


def new_workflow(spec, data: dict | None = None) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, script_engine=SCRIPT_ENGINE)
    if data:
        workflow.data.update(data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
    advance(workflow)
    return workflow


# The decision a skipped step is completed with (a case that does not take the step's service item).
SKIPPED = "skipped"


def advance(workflow: BpmnWorkflow) -> None:
    """Run the engine's own steps, and pass the user tasks the case does not take: a bundle case applied for part
    of its items lists the steps of the others in ``workflow.data["skip_tasks"]`` (their BPMN ids); each such
    step, when it becomes ready, is completed at once with the decision ``skipped`` (no inbox sees it)."""
    workflow.do_engine_steps()
    skip = set(workflow.data.get("skip_tasks") or ())
    if not skip:
        return
    while True:
        passing = [t for t in ready_user_tasks(workflow) if t.task_spec.name in skip]
        if not passing:
            return
        for task in passing:
            task.data["decision"] = SKIPPED
            task.run()
        workflow.do_engine_steps()


def dump(workflow: BpmnWorkflow) -> str:
    """Serialise a workflow without its spec (the definition holds it): about half the size, and faster."""
    registry = SERIALIZER.registry
    state = {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": {str(k): registry.convert(v) for k, v in workflow.tasks.items()},
        "root": str(workflow.task_tree.id),
        "bpmn_events": registry.convert(workflow.bpmn_events),
        "serializer_version": SERIALIZER.VERSION,
    }
    return json.dumps(state, separators=(",", ":"), cls=SERIALIZER.json_encoder_cls)


def load(state: str, spec) -> BpmnWorkflow:
    """Rebuild a workflow from ``dump`` output and an already parsed spec (no spec restore per call).

    The same steps as SpiffWorkflow's ``BpmnWorkflowConverter.from_dict``, minus restoring the spec, which
    Tongban parses once per definition; processes have no sub-processes (refused on upload).
    """
    registry = SERIALIZER.registry
    dct = json.loads(state, cls=SERIALIZER.json_decoder_cls)
    workflow = BpmnWorkflow(spec, {}, script_engine=SCRIPT_ENGINE, deserializing=True)
    workflow.tasks = {UUID(k): registry.restore(v, workflow=workflow) for k, v in dct["tasks"].items()}
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    workflow.success = dct["success"]
    workflow.completed = dct.get("completed", False)
    workflow.correlations = dct.get("correlations", {})
    if isinstance(dct["last_task"], str):
        workflow.last_task = workflow.tasks.get(UUID(dct["last_task"]))
    workflow.data = registry.restore(dct.get("data", {}))
    workflow.bpmn_events = registry.restore(dct.get("bpmn_events", []))
    return workflow


# --- workflows kept between steps ----------------------------------------------------------------------------
#
# A process's next step is usually prepared by the worker process that made the previous one. The workflow that step
# left is kept here, keyed by (process instance, the revision its state was stored with), so the next step need not
# rebuild it from JSON. An entry is added only once its state is committed (``keep`` runs on commit) and taken out
# when used (``take``), so a step that fails never leaves a workflow it changed; any other change of the process
# bumps its revision, so an entry of an older state is never found.

_KEPT_MAX = 256
_kept: OrderedDict = OrderedDict()
_kept_lock = threading.Lock()


def keep(instance_id, revision: int, workflow: BpmnWorkflow) -> None:
    with _kept_lock:
        _kept[(str(instance_id), revision)] = workflow
        while len(_kept) > _KEPT_MAX:
            _kept.popitem(last=False)


def take(instance_id, revision: int, spec) -> BpmnWorkflow | None:
    """The workflow kept for this instance at this revision (removed from the keep), if it has ``spec``."""
    with _kept_lock:
        workflow = _kept.pop((str(instance_id), revision), None)
    return workflow if workflow is not None and workflow.spec is spec else None


def kept_clear() -> None:
    with _kept_lock:
        _kept.clear()


def ready_user_tasks(workflow: BpmnWorkflow):
    return list(workflow.get_tasks(state=TaskState.READY, manual=True))


def previous_user_task(task):
    """The nearest completed user task before ``task`` on its path, or None."""
    node = task.parent
    while node is not None:
        if (
            node.task_spec.manual
            and node.state == TaskState.COMPLETED
            and node.data.get("decision") != SKIPPED
        ):
            return node
        node = node.parent
    return None
