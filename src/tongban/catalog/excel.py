"""The catalogue as an Excel workbook: ``tongban catalog export FILE.xlsx`` and ``import FILE.xlsx``.

Four sheets, each with one header row of field names and one row per record:

* ``items`` — :data:`ITEM_COLUMNS` (``department`` is a department code; ``handling_modes``, ``form_schema``,
  ``form_ui`` and ``step_effects`` are JSON text);
* ``materials`` — :data:`MATERIAL_COLUMNS` (``item`` is the item's code);
* ``bundles`` — :data:`BUNDLE_COLUMNS` (``lead_department`` is a department code; the merged form is built);
* ``bundle_items`` — ``bundle``, ``item``, ``position``: a bundle listed here gets exactly these items.

Import upserts by code through the services, so every rule of the admin applies. A bad row is reported as
``sheet items, row 7: promised_limit_days: ...`` (the row number Excel shows) and skipped; every good row is
kept, each in its own savepoint. Materials and bundle items missing from the workbook are left alone.
"""

import json
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from tqdm import tqdm

from tongban.core.audit import Actor
from tongban.core.exceptions import DomainError
from tongban.identity.models import Department

from . import services
from .models import Bundle, BundleItem, Material, PublicationStatus, ServiceItem

ITEM_COLUMNS = (
    "code",
    "basic_code",
    "name_zh",
    "name_en",
    "item_type",
    "legal_basis",
    "legal_basis_en",
    "level",
    "department",
    "service_object",
    "case_type",
    "legal_limit_days",
    "promised_limit_days",
    "fee",
    "fee_basis",
    "fee_basis_en",
    "handling_modes",
    "visits_required",
    "visits_reason",
    "visits_reason_en",
    "online_depth",
    "acceptance",
    "result_type",
    "result_name",
    "result_name_en",
    "result_licence_type",
    "conditions",
    "conditions_en",
    "procedure",
    "procedure_en",
    "location",
    "location_en",
    "phone",
    "form_schema",
    "form_ui",
    "process_key",
    "step_effects",
    "status",
)
MATERIAL_COLUMNS = (
    "item",
    "code",
    "name",
    "name_en",
    "source",
    "form",
    "copies",
    "necessity",
    "condition",
    "condition_en",
    "condition_field",
    "note",
    "note_en",
    "position",
    "satisfied_by",
    "evidence",
    "evidence_subject",
)
BUNDLE_COLUMNS = (
    "code",
    "name_zh",
    "name_en",
    "description",
    "description_en",
    "lead_department",
    "service_object",
    "legal_limit_days",
    "promised_limit_days",
    "visits_required",
    "visits_reason",
    "visits_reason_en",
    "process_key",
    "status",
)
BUNDLE_ITEM_COLUMNS = ("bundle", "item", "position")
SHEETS = {
    "items": ITEM_COLUMNS,
    "materials": MATERIAL_COLUMNS,
    "bundles": BUNDLE_COLUMNS,
    "bundle_items": BUNDLE_ITEM_COLUMNS,
}
# The columns a sheet cannot do without; any other column may be left out (its field is then left alone).
KEY_COLUMNS = {
    ITEM_COLUMNS: ("code",),
    MATERIAL_COLUMNS: ("item", "code"),
    BUNDLE_COLUMNS: ("code",),
    BUNDLE_ITEM_COLUMNS: ("bundle", "item"),
}
JSON_COLUMNS = frozenset({"handling_modes", "form_schema", "form_ui", "step_effects"})
INT_COLUMNS = frozenset(
    {"legal_limit_days", "promised_limit_days", "visits_required", "online_depth", "copies", "position"}
)
PROGRESS_THRESHOLD = 200


class RowError(Exception):
    """A row that cannot be imported, with the reason."""


# --- export ------------------------------------------------------------------------------------------


def _cell(column, value):
    if column in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        return float(value)
    if value == "":
        return None
    return value


def _item_row(item):
    values = {name: getattr(item, name) for name in ITEM_COLUMNS}
    values["department"] = item.department.code
    return [_cell(c, values[c]) for c in ITEM_COLUMNS]


def _material_row(material):
    values = {name: getattr(material, name) for name in MATERIAL_COLUMNS if name != "item"}
    values["item"] = material.item.code
    return [_cell(c, values[c]) for c in MATERIAL_COLUMNS]


def _bundle_row(bundle):
    values = {name: getattr(bundle, name) for name in BUNDLE_COLUMNS}
    values["lead_department"] = bundle.lead_department.code
    return [_cell(c, values[c]) for c in BUNDLE_COLUMNS]


def catalog_export(path) -> dict:
    """Write the whole catalogue (drafts and withdrawn items too) to ``path``; returns rows per sheet."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    rows = {
        "items": [_item_row(i) for i in ServiceItem.objects.select_related("department").order_by("code")],
        "materials": [
            _material_row(m)
            for m in Material.objects.select_related("item").order_by("item__code", "position", "code")
        ],
        "bundles": [
            _bundle_row(b) for b in Bundle.objects.select_related("lead_department").order_by("code")
        ],
        "bundle_items": [
            [link.bundle.code, link.item.code, link.position]
            for link in BundleItem.objects.select_related("bundle", "item").order_by(
                "bundle__code", "position"
            )
        ],
    }
    for name, columns in SHEETS.items():
        sheet = workbook.create_sheet(name)
        sheet.append(list(columns))
        for row in rows[name]:
            sheet.append(row)
        sheet.freeze_panes = "A2"
    workbook.save(path)
    return {name: len(values) for name, values in rows.items()}


# --- import ------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did: counts per sheet (created / updated / unchanged / failed) and the row errors."""

    counts: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    def count(self, sheet, outcome):
        self.counts.setdefault(sheet, {"created": 0, "updated": 0, "unchanged": 0, "failed": 0})
        self.counts[sheet][outcome] += 1

    def fail(self, sheet, row, reason):
        self.count(sheet, "failed")
        self.errors.append(
            _("sheet %(sheet)s, row %(row)s: %(reason)s") % {"sheet": sheet, "row": row, "reason": reason}
        )

    @property
    def ok(self):
        return not self.errors

    def summary(self) -> str:
        lines = []
        for sheet in SHEETS:
            c = self.counts.get(sheet)
            if c:
                lines.append(
                    _(
                        "%(sheet)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(failed)d failed"
                    )
                    % {"sheet": sheet, **c}
                )
        if self.dry_run:
            lines.append(_("Dry run: nothing was saved."))
        return "\n".join(lines)


def _reason(exc) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(
                f"{name}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
                for name, messages in exc.message_dict.items()
            )
        return " ".join(exc.messages)
    return str(exc)


def _read(sheet, columns):
    """``(row number, {column: value})`` for each non-empty data row; unknown header names are refused."""
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return [], []
    header = [str(h).strip() if h is not None else "" for h in header]
    unknown = [h for h in header if h and h not in columns]
    missing = [c for c in KEY_COLUMNS[columns] if c not in header]
    problems = []
    if unknown:
        problems.append(_("unknown columns: %(names)s") % {"names": ", ".join(unknown)})
    if missing:
        problems.append(_("missing columns: %(names)s") % {"names": ", ".join(missing)})
    data = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        data.append((number, {h: v for h, v in zip(header, values, strict=False) if h in columns}))
    return data, problems


def _value(model, column, raw):
    """The Python value of a cell for ``model.column``; blank cells become the field's default."""
    if column in JSON_COLUMNS:
        if raw in (None, ""):
            return model._meta.get_field(column).get_default()
        try:
            return json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError as exc:
            raise RowError(
                _("%(column)s: not valid JSON (%(error)s)") % {"column": column, "error": exc}
            ) from None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        model_field = model._meta.get_field(column)
        if model_field.has_default():
            return model_field.get_default()
        if column in INT_COLUMNS:
            raise RowError(_("%(column)s: a value is required") % {"column": column})
        return ""
    if column in INT_COLUMNS:
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise RowError(
                _("%(column)s: not a whole number: %(value)s") % {"column": column, "value": raw}
            ) from None
        if number != number.to_integral_value():
            raise RowError(_("%(column)s: not a whole number: %(value)s") % {"column": column, "value": raw})
        return int(number)
    if column == "fee":
        try:
            return Decimal(str(raw).strip()).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise RowError(_("fee: not an amount: %(value)s") % {"value": raw}) from None
    return str(raw).strip() if isinstance(raw, str) else str(raw)


def _department(code):
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise RowError(_("unknown department %(code)s") % {"code": code})
    return department


def _changed(obj, fields):
    return {name: value for name, value in fields.items() if getattr(obj, name) != value}


class _Importer:
    def __init__(self, *, actor: Actor, report: ImportReport, progress):
        self.actor = actor
        self.report = report
        self.progress = progress
        self.bundle_status = {}  # bundle code -> (row, status)

    def run_rows(self, sheet_name, rows, handler):
        for number, values in rows:
            try:
                with transaction.atomic():
                    outcome = handler(values)
            except (RowError, ValidationError, DomainError, TypeError) as exc:
                self.report.fail(sheet_name, number, _reason(exc))
            else:
                self.report.count(sheet_name, outcome)
            self.progress.update(1)

    def item(self, values):
        code = _value(ServiceItem, "code", values.get("code"))
        if not code:
            raise RowError(_("code: a value is required"))
        fields = {}
        for column in ITEM_COLUMNS:
            if column in {"code", "status"} or column not in values:
                continue
            if column == "department":
                fields["department"] = _department(values[column])
            else:
                fields[column] = _value(ServiceItem, column, values[column])
        status = _value(ServiceItem, "status", values.get("status")) or PublicationStatus.DRAFT
        item = ServiceItem.objects.filter(code=code).first()
        if item is None:
            services.item_create(actor=self.actor, code=code, status=status, **fields)
            return "created"
        changes = _changed(item, fields)
        if changes:
            services.item_update(actor=self.actor, item=item, **changes)
        if item.status != status:
            services.item_status_set(actor=self.actor, item=item, status=status)
            changes["status"] = status
        return "updated" if changes else "unchanged"

    def material(self, values):
        item_code = values.get("item")
        item = ServiceItem.objects.filter(code=item_code).first() if item_code else None
        if item is None:
            raise RowError(_("unknown item %(code)s") % {"code": item_code})
        code = _value(Material, "code", values.get("code"))
        if not code:
            raise RowError(_("code: a value is required"))
        fields = {
            c: _value(Material, c, values[c])
            for c in MATERIAL_COLUMNS
            if c not in {"item", "code"} and c in values
        }
        existing = Material.objects.filter(item=item, code=code).first()
        if existing is not None and not _changed(existing, fields):
            return "unchanged"
        services.material_save(actor=self.actor, item=item, code=code, **fields)
        return "created" if existing is None else "updated"

    def bundle(self, values, number=None):
        code = _value(Bundle, "code", values.get("code"))
        if not code:
            raise RowError(_("code: a value is required"))
        fields = {}
        for column in BUNDLE_COLUMNS:
            if column in {"code", "status"} or column not in values:
                continue
            if column == "lead_department":
                fields[column] = _department(values[column])
            else:
                fields[column] = _value(Bundle, column, values[column])
        status = _value(Bundle, "status", values.get("status")) or PublicationStatus.DRAFT
        if status not in PublicationStatus.values:
            raise RowError(_("status: unknown value %(value)s") % {"value": status})
        bundle = Bundle.objects.filter(code=code).first()
        if bundle is None:
            services.bundle_create(actor=self.actor, code=code, **fields)
            outcome = "created"
        else:
            changes = _changed(bundle, fields)
            if changes:
                services.bundle_update(actor=self.actor, bundle=bundle, **changes)
            outcome = "updated" if changes or bundle.status != status else "unchanged"
        self.bundle_status[code] = (number, status)
        return outcome

    def bundle_items(self, rows):
        groups: dict[str, list] = {}
        for number, values in rows:
            try:
                bundle_code, item_code = values.get("bundle"), values.get("item")
                if not Bundle.objects.filter(code=bundle_code).exists():
                    raise RowError(_("unknown bundle %(code)s") % {"code": bundle_code})
                if not ServiceItem.objects.filter(code=item_code).exists():
                    raise RowError(_("unknown item %(code)s") % {"code": item_code})
                position = _value(BundleItem, "position", values.get("position"))
            except RowError as exc:
                self.report.fail("bundle_items", number, _reason(exc))
                self.progress.update(1)
                continue
            groups.setdefault(bundle_code, []).append((position, number, item_code))
        for bundle_code, entries in groups.items():
            entries.sort()
            bundle = Bundle.objects.get(code=bundle_code)
            codes = [item_code for _position, _number, item_code in entries]
            current = list(
                bundle.bundle_items.order_by("position", "pk").values_list("item__code", flat=True)
            )
            try:
                with transaction.atomic():
                    if codes != current:
                        services.bundle_items_set(actor=self.actor, bundle=bundle, items=codes)
            except (ValidationError, DomainError) as exc:
                for _position, number, _code in entries:
                    self.report.fail("bundle_items", number, _reason(exc))
            else:
                for _entry in entries:
                    self.report.count("bundle_items", "updated" if codes != current else "unchanged")
            self.progress.update(len(entries))

    def bundle_statuses(self):
        for code, (number, status) in self.bundle_status.items():
            bundle = Bundle.objects.get(code=code)
            if bundle.status == status:
                continue
            try:
                with transaction.atomic():
                    services.bundle_status_set(actor=self.actor, bundle=bundle, status=status)
            except (ValidationError, DomainError) as exc:
                self.report.fail("bundles", number, _reason(exc))
                counts = self.report.counts["bundles"]
                # The row was counted as saved before its status failed: count it once, as failed.
                for outcome in ("created", "updated", "unchanged"):
                    if counts[outcome]:
                        counts[outcome] -= 1
                        break


class _Rollback(Exception):
    pass


def catalog_import(path, *, actor: Actor, dry_run: bool = False, stream=None) -> ImportReport:
    """Upsert the catalogue from the workbook at ``path``; see the module docstring for the format.

    ``dry_run`` checks every row as a real import would, then rolls everything back. A progress bar goes to
    ``stream`` (standard error by default) when the workbook has more than 200 rows.
    """
    report = ImportReport(dry_run=dry_run)
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheets = {}
    for name, columns in SHEETS.items():
        if name not in workbook.sheetnames:
            sheets[name] = []
            continue
        rows, problems = _read(workbook[name], columns)
        if problems:
            report.errors.append(
                _("sheet %(sheet)s: %(problems)s") % {"sheet": name, "problems": "; ".join(problems)}
            )
            rows = []
        sheets[name] = rows
    workbook.close()
    total = sum(len(rows) for rows in sheets.values())
    progress = tqdm(
        total=total, file=stream or sys.stderr, disable=total <= PROGRESS_THRESHOLD, unit="row", leave=False
    )
    try:
        with transaction.atomic():
            importer = _Importer(actor=actor, report=report, progress=progress)
            importer.run_rows("items", sheets["items"], importer.item)
            importer.run_rows("materials", sheets["materials"], importer.material)
            for number, values in sheets["bundles"]:
                try:
                    with transaction.atomic():
                        outcome = importer.bundle(values, number)
                except (RowError, ValidationError, DomainError, TypeError) as exc:
                    report.fail("bundles", number, _reason(exc))
                else:
                    report.count("bundles", outcome)
                progress.update(1)
            importer.bundle_items(sheets["bundle_items"])
            importer.bundle_statuses()
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    finally:
        progress.close()
    return report
