"""Back office for identity. Saves of persons and organisations go through the services (validated, audited).

The admin site itself is put behind the one login: its login page sends people to ``identity:login``, and
an account that needs a second factor (staff, admin-site users) reaches the admin only with a verified
TOTP code in its session.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongban.core.ids import normalize_credit_code, normalize_resident_id

from . import services
from .models import AdminUnit, Department, Household, Organisation, Person, Role, Staff, User
from .selectors import actor_from_request, needs_second_factor


def _admin_login(request, extra_context=None):
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("identity:login"))


_site_has_permission = admin.site.has_permission


def _admin_has_permission(request):
    if not _site_has_permission(request):
        return False
    user = request.user
    return not needs_second_factor(user) or user.is_verified()


admin.site.login = _admin_login
admin.site.has_permission = _admin_has_permission
admin.site.site_header = _("Tongban administration")
admin.site.site_title = _("Tongban administration")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "is_staff", "is_active", "last_login")


@admin.register(AdminUnit)
class AdminUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name", "name_en")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "admin_unit", "parent")
    list_filter = ("level", "parent")
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("admin_unit", "parent")
    autocomplete_fields = ("admin_unit", "parent")


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "role_list", "title", "active")
    list_filter = ("active", "roles", "department__level", "department")
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "department__code",
        "department__name_zh",
    )
    list_select_related = ("user", "department")
    autocomplete_fields = ("user", "department")
    filter_horizontal = ("roles",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("roles")

    @admin.display(description=_("roles"))
    def role_list(self, obj):
        return ", ".join(role.name_zh for role in obj.roles.all())

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.staff_record_admin_change(
            actor=actor_from_request(request), staff=form.instance, created=not change
        )


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("number", "district", "street", "address")
    search_fields = ("number", "address")
    list_filter = ("district",)
    autocomplete_fields = ("district", "street")


class PersonAdminForm(forms.ModelForm):
    """The admin builds the model form from this one (model and fields come from ``PersonAdmin``)."""

    def clean_resident_id(self):
        # Canonical before the model's checks: a lower-case x would otherwise fail the database constraint.
        return normalize_resident_id(self.cleaned_data["resident_id"])


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    form = PersonAdminForm
    list_display = ("name", "masked_id", "sex", "birth_date", "household_district", "masked_phone_number")
    list_filter = ("sex", "household_district")
    # Exact ID number, or the start of a name: both use an index, even with a million persons.
    search_fields = ("=resident_id", "name__startswith")
    search_help_text = _("An exact resident ID number, or the beginning of a name.")
    list_select_related = ("household_district",)
    autocomplete_fields = ("household_district", "household", "user")
    show_full_result_count = False
    readonly_fields = ("created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["resident_id", "sex", "birth_date"]  # changed only by a registry procedure
        return fields

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(
            request, queryset, search_term.strip().upper() if len(search_term.strip()) == 18 else search_term
        )

    @admin.display(description=_("resident ID number"), ordering="resident_id")
    def masked_id(self, obj):
        return obj.masked_resident_id

    @admin.display(description=_("mobile phone"))
    def masked_phone_number(self, obj):
        return obj.masked_phone

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        if change:
            fields = {f: form.cleaned_data[f] for f in services.PERSON_UPDATABLE if f in form.changed_data}
            saved = services.person_update(actor=actor, person=obj, **fields)
        else:
            saved = services.person_create(
                actor=actor,
                resident_id=obj.resident_id,
                name=obj.name,
                sex=obj.sex,
                birth_date=obj.birth_date,
                phone=obj.phone,
                household_district=obj.household_district,
                household=obj.household,
                user=obj.user,
            )
        obj.pk = saved.pk
        obj._state.adding = False


class OrganisationAdminForm(forms.ModelForm):
    def clean_credit_code(self):
        return normalize_credit_code(self.cleaned_data["credit_code"])


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationAdminForm
    list_display = ("name", "credit_code", "org_type", "district")
    list_filter = ("org_type", "district")
    search_fields = ("=credit_code", "name")
    list_select_related = ("district",)
    autocomplete_fields = ("legal_representative", "district", "agents")
    readonly_fields = ("created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("credit_code")
        return fields

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        if change:
            fields = {
                f: form.cleaned_data[f] for f in services.ORGANISATION_UPDATABLE if f in form.changed_data
            }
            saved = services.organisation_update(actor=actor, organisation=obj, **fields)
        else:
            saved = services.organisation_create(
                actor=actor,
                credit_code=obj.credit_code,
                name=obj.name,
                org_type=obj.org_type,
                legal_representative=obj.legal_representative,
                district=obj.district,
            )
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # Enterprise agents act for the organisation: each one added or removed goes through the services
        # (audited), not through the form's plain many-to-many save.
        wanted = form.cleaned_data.pop("agents", None)
        super().save_related(request, form, formsets, change)
        if wanted is None:
            return
        organisation, actor = form.instance, actor_from_request(request)
        current = set(organisation.agents.all())
        for user in set(wanted) - current:
            services.organisation_agent_add(actor=actor, organisation=organisation, user=user)
        for user in current - set(wanted):
            services.organisation_agent_remove(actor=actor, organisation=organisation, user=user)
