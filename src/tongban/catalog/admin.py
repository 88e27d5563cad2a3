"""Back office of the catalogue, for service designers (事项设计人员).

Saves go through the services (validation, search tokens, merged bundle forms, audit and events); the forms
check the JSON Schema, the materials' condition fields and the bundle merge first, so a mistake is a field
message rather than an error page. Publication is an admin action.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tongban.core.effects import step_effects_check
from tongban.core.exceptions import DomainError
from tongban.identity.selectors import actor_from_request

from . import services
from .models import Bundle, BundleItem, Material, PublicationStatus, ServiceItem
from .schema import form_merge, schema_check, ui_check


def _copy_saved(obj, saved):
    """Make the admin's unsaved ``obj`` the row a service created (the admin keeps using ``obj``)."""
    for model_field in saved._meta.concrete_fields:
        setattr(obj, model_field.attname, getattr(saved, model_field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def _formset_rows(formset, fields):
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or (formset.can_delete and formset._should_delete_form(form)):
            continue
        rows.append({name: data[name] for name in fields if name in data})
    return rows


def _formset_saved_nothing(formset):
    # The admin's change message reads these; the service saves the rows and the audit entry records them.
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


class ServiceItemAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        for check, args in (
            (schema_check, (cleaned.get("form_schema"),)),
            (ui_check, (cleaned.get("form_ui"), cleaned.get("form_schema"))),
        ):
            try:
                check(*args)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    if name not in self.errors:
                        self.add_error(name, errors)
        if "step_effects" in cleaned and cleaned["step_effects"] in (None, ""):
            cleaned["step_effects"] = {}  # a cleared box means no effects, not NULL
        try:
            step_effects_check(cleaned.get("step_effects"))
        except ValidationError:
            pass  # the model's validator reports it on the field
        else:
            # Deep: the effects' owners say whether a parameter names something that exists (a licence type).
            try:
                step_effects_check(cleaned.get("step_effects"), deep=True)
            except ValidationError as exc:
                self.add_error("step_effects", exc.messages)
        return cleaned


class MaterialInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        properties = (self.instance.form_schema or {}).get("properties", {})
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or (self.can_delete and self._should_delete_form(form)):
                continue
            field_name = data.get("condition_field")
            if field_name and field_name not in properties:
                form.add_error(
                    "condition_field", _("The item's form has no field %(name)s.") % {"name": field_name}
                )


class MaterialInline(admin.TabularInline):
    model = Material
    formset = MaterialInlineFormSet
    extra = 0
    fields = (
        "position",
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
    )


@admin.action(description=_("Publish the selected items"))
def publish_items(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.item_publish, "item")


@admin.action(description=_("Withdraw the selected items"))
def withdraw_items(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.item_withdraw, "item")


def _run(modeladmin, request, queryset, service, keyword):
    actor = actor_from_request(request)
    done = 0
    for obj in queryset:
        try:
            service(actor=actor, **{keyword: obj})
            done += 1
        except (ValidationError, DomainError) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            modeladmin.message_user(request, f"{obj.code}: {text}", messages.ERROR)
    if done:
        modeladmin.message_user(
            request, ngettext("%(n)d record changed.", "%(n)d records changed.", done) % {"n": done}
        )


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    form = ServiceItemAdminForm
    inlines = [MaterialInline]
    actions = [publish_items, withdraw_items]
    list_display = (
        "code",
        "name_zh",
        "department",
        "item_type",
        "level",
        "promised_limit_days",
        "legal_limit_days",
        "visits_required",
        "online_depth",
        "status",
    )
    list_filter = (
        "status",
        "item_type",
        "level",
        "service_object",
        "online_depth",
        "visits_required",
        "department",
    )
    search_fields = ("code", "basic_code", "name_zh", "name_en")
    list_select_related = ("department",)
    autocomplete_fields = ("department",)
    readonly_fields = ("status", "search_text", "created_at", "updated_at")
    fieldsets = (
        (
            None,
            {"fields": ("code", "basic_code", "name_zh", "name_en", "item_type", "legal_basis", "status")},
        ),
        (_("Who and where"), {"fields": ("department", "level", "service_object", "location", "phone")}),
        (
            _("Handling"),
            {
                "fields": (
                    "case_type",
                    "legal_limit_days",
                    "promised_limit_days",
                    "fee",
                    "fee_basis",
                    "handling_modes",
                    "visits_required",
                    "visits_reason",
                    "online_depth",
                    "acceptance",
                    "conditions",
                    "procedure",
                )
            },
        ),
        (_("Result"), {"fields": ("result_type", "result_name", "result_licence_type")}),
        (
            _("English texts (shown on English pages; blank: the Chinese text)"),
            {
                "classes": ("collapse",),
                "fields": (
                    "legal_basis_en",
                    "location_en",
                    "fee_basis_en",
                    "visits_reason_en",
                    "conditions_en",
                    "procedure_en",
                    "result_name_en",
                ),
            },
        ),
        (
            _("Form and process"),
            {"fields": ("form_schema", "form_ui", "process_key", "submission_checks", "step_effects")},
        ),
        (_("Search"), {"classes": ("collapse",), "fields": ("search_text", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("code")
        return fields

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in services.ITEM_FIELDS}
            services.item_update(actor=actor, item=obj, **changes)
        else:
            fields = {f: form.cleaned_data[f] for f in services.ITEM_FIELDS if f in form.cleaned_data}
            _copy_saved(obj, services.item_create(actor=actor, code=form.cleaned_data["code"], **fields))

    def save_related(self, request, form, formsets, change):
        form.save_m2m()
        for formset in formsets:
            _formset_saved_nothing(formset)
            if formset.model is Material:
                rows = _formset_rows(formset, ("code", *services.MATERIAL_FIELDS))
                rows.sort(key=lambda row: row.get("position", 0))
                services.item_materials_set(
                    actor=actor_from_request(request), item=form.instance, materials=rows
                )


class BundleItemInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        rows = _formset_rows(self, ("item", "position"))
        rows.sort(key=lambda row: row.get("position", 0))
        items = [row["item"] for row in rows if row.get("item")]
        try:
            form_merge([(i.code, i.name_zh, i.form_schema, i.form_ui) for i in items])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        if self.instance.status == PublicationStatus.PUBLISHED and len(items) < 2:
            raise forms.ValidationError(_("A published bundle holds at least two service items."))


class BundleItemInline(admin.TabularInline):
    model = BundleItem
    formset = BundleItemInlineFormSet
    extra = 0
    fields = ("position", "item")
    autocomplete_fields = ("item",)


@admin.action(description=_("Publish the selected bundles"))
def publish_bundles(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.bundle_publish, "bundle")


@admin.action(description=_("Withdraw the selected bundles"))
def withdraw_bundles(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.bundle_withdraw, "bundle")


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    inlines = [BundleItemInline]
    exclude = ("items",)
    actions = [publish_bundles, withdraw_bundles]
    list_display = ("code", "name_zh", "lead_department", "promised_limit_days", "legal_limit_days", "status")
    list_filter = ("status", "lead_department")
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("lead_department",)
    autocomplete_fields = ("lead_department",)
    readonly_fields = ("status", "form_schema", "form_ui", "search_text", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("code")
        return fields

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in services.BUNDLE_FIELDS}
            services.bundle_update(actor=actor, bundle=obj, **changes)
        else:
            fields = {f: form.cleaned_data[f] for f in services.BUNDLE_FIELDS if f in form.cleaned_data}
            _copy_saved(obj, services.bundle_create(actor=actor, code=form.cleaned_data["code"], **fields))

    def save_related(self, request, form, formsets, change):
        form.save_m2m()
        for formset in formsets:
            _formset_saved_nothing(formset)
            if formset.model is BundleItem:
                rows = _formset_rows(formset, ("item", "position"))
                rows.sort(key=lambda row: row.get("position", 0))
                services.bundle_items_set(
                    actor=actor_from_request(request),
                    bundle=form.instance,
                    items=[row["item"] for row in rows],
                )
