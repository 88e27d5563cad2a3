from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tongban.core.models import (
    AuditCheckpoint,
    AuditEntry,
    CalendarYear,
    EventDelivery,
    OutboxEvent,
    WorkdayOverride,
)

# --- outbox events -----------------------------------------------------------


def _outbox_error_summary(delivery):
    lines = [line for line in delivery.last_error.strip().splitlines() if line.strip()]
    return Truncator(lines[-1]).chars(120) if lines else ""


def _outbox_actor(request):
    from tongban.core.audit import Actor

    user = request.user
    return Actor(kind="staff", id=str(user.pk), label=user.get_username())


class OutboxReadOnlyAdmin(admin.ModelAdmin):
    """Outbox rows are written by services and workers only; the admin views and replays them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventDeliveryInline(admin.TabularInline):
    model = EventDelivery
    fields = ["subscriber", "status", "attempts", "next_attempt_at", "delivered_at", "error_summary"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description=_("last error"))
    def error_summary(self, obj):
        return _outbox_error_summary(obj)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(OutboxReadOnlyAdmin):
    list_display = ["name", "subject_type", "subject_id", "created_at"]
    list_filter = ["name"]
    search_fields = ["name", "subject_id"]
    date_hierarchy = "created_at"
    fields = ["id", "name", "subject_type", "subject_id", "created_at", "payload"]
    readonly_fields = fields
    inlines = [EventDeliveryInline]


@admin.register(EventDelivery)
class EventDeliveryAdmin(OutboxReadOnlyAdmin):
    list_display = [
        "event_name",
        "subscriber",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "error_summary",
    ]
    list_filter = ["status", "event__name", "subscriber"]
    list_select_related = ["event"]
    search_fields = ["event__name", "subscriber", "event__subject_id", "last_error"]
    fields = [
        "event",
        "subscriber",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "updated_at",
        "error",
    ]
    readonly_fields = fields
    actions = ["replay"]

    @admin.display(description=_("event"), ordering="event__name")
    def event_name(self, obj):
        return obj.event.name

    @admin.display(description=_("last error"))
    def error_summary(self, obj):
        return _outbox_error_summary(obj)

    @admin.display(description=_("last error"))
    def error(self, obj):
        return (
            format_html("<pre style='white-space: pre-wrap'>{}</pre>", obj.last_error)
            if obj.last_error
            else "-"
        )

    def has_replay_permission(self, request):
        return request.user.has_perm("core.replay_eventdelivery")

    @admin.action(description=_("Replay the selected dead deliveries"), permissions=["replay"])
    def replay(self, request, queryset):
        from tongban.core.events import event_replay

        count = event_replay(
            actor=_outbox_actor(request), delivery_ids=list(queryset.values_list("pk", flat=True))
        )
        if count:
            message = ngettext(
                "%(count)d dead delivery was queued again.",
                "%(count)d dead deliveries were queued again.",
                count,
            )
            self.message_user(request, message % {"count": count}, messages.SUCCESS)
        else:
            self.message_user(
                request, _("Only dead deliveries can be replayed; none was selected."), messages.WARNING
            )


# --- end outbox events -------------------------------------------------------


# --- working-day calendar ------------------------------------------------------


def _calendar_actor(request):
    from tongban.core.audit import Actor

    user = request.user
    return Actor(kind="staff", id=str(user.pk), label=user.get_username())


class OverrideYearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = WorkdayOverride.objects.dates("date", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in years]

    def queryset(self, request, queryset):
        value = self.value() or ""
        # isascii(): other scripts' digits pass isdigit() but not int(); a year past 9999 is no date.
        if value.isascii() and value.isdigit() and 1 <= int(value) <= 9999:
            return queryset.filter(date__year=int(value))
        return queryset


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    """Overrides go through the calendar services, so each change is audited and the cache refreshed."""

    list_display = ["date", "weekday", "kind", "name", "package_answer", "changed_by", "updated_at"]
    list_filter = [OverrideYearFilter, "kind"]
    search_fields = ["name", "note"]
    date_hierarchy = "date"
    fields = ["date", "kind", "name", "note", "package_answer", "changed_by", "created_at", "updated_at"]
    readonly_fields = ["package_answer", "changed_by", "created_at", "updated_at"]
    actions = ["declare_years"]

    def get_readonly_fields(self, request, obj=None):
        # A date is the identity of an override: to move one, delete it and add another.
        return ["date", *self.readonly_fields] if obj is not None else self.readonly_fields

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return date_format(obj.date, "l") if obj.date else ""

    @admin.display(description=_("without this override"))
    def package_answer(self, obj):
        if obj is None or obj.date is None:
            return "-"
        from tongban.core.calendar import PACKAGE_YEARS, package_day_info

        info = package_day_info(obj.date)
        if info is None:
            return _("not known to the holiday package (%(first)s–%(last)s)") % {
                "first": PACKAGE_YEARS[0],
                "last": PACKAGE_YEARS[-1],
            }
        answer = _("working day") if info.working else _("day off")
        return f"{answer} {info.name}".strip()

    def save_model(self, request, obj, form, change):
        from tongban.core.calendar import workday_override_set

        saved = workday_override_set(
            actor=_calendar_actor(request), date=obj.date, kind=obj.kind, name=obj.name, note=obj.note
        )
        obj.pk, obj.changed_by = saved.pk, saved.changed_by

    def delete_model(self, request, obj):
        from tongban.core.calendar import workday_override_delete

        workday_override_delete(actor=_calendar_actor(request), date=obj.date)

    def delete_queryset(self, request, queryset):
        from tongban.core.calendar import workday_override_delete

        actor = _calendar_actor(request)
        for day in queryset.values_list("date", flat=True):
            workday_override_delete(actor=actor, date=day)

    def has_declare_years_permission(self, request):
        return request.user.has_perm("core.add_calendaryear")

    @admin.action(
        description=_("Declare the years of the selected overrides complete"), permissions=["declare_years"]
    )
    def declare_years(self, request, queryset):
        from tongban.core.calendar import calendar_year_declare

        years = sorted({day.year for day in queryset.values_list("date", flat=True)})
        for year in years:
            calendar_year_declare(actor=_calendar_actor(request), year=year)
        self.message_user(
            request,
            _("Declared complete: %(years)s.") % {"years": ", ".join(map(str, years))},
            messages.SUCCESS,
        )


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "override_count", "declared_by", "updated_at"]
    fields = ["year", "note", "override_count", "declared_by", "created_at", "updated_at"]
    readonly_fields = ["override_count", "declared_by", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["year", *self.readonly_fields] if obj is not None else self.readonly_fields

    @admin.display(description=_("overrides"))
    def override_count(self, obj):
        if obj is None or obj.year is None:
            return "-"
        return WorkdayOverride.objects.filter(date__year=obj.year).count()

    def save_model(self, request, obj, form, change):
        from tongban.core.calendar import calendar_year_declare

        saved = calendar_year_declare(actor=_calendar_actor(request), year=obj.year, note=obj.note)
        obj.pk, obj.declared_by = saved.pk, saved.declared_by

    def delete_model(self, request, obj):
        from tongban.core.calendar import calendar_year_undeclare

        calendar_year_undeclare(actor=_calendar_actor(request), year=obj.year)

    def delete_queryset(self, request, queryset):
        from tongban.core.calendar import calendar_year_undeclare

        actor = _calendar_actor(request)
        for year in queryset.values_list("year", flat=True):
            calendar_year_undeclare(actor=actor, year=year)


# --- end working-day calendar --------------------------------------------------


# --- audit chain -------------------------------------------------------------


class AuditReadOnlyAdmin(admin.ModelAdmin):
    """The audit log is append-only: the admin shows it and nothing else (the database agrees)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditReadOnlyAdmin):
    list_display = [
        "at",
        "actor_label",
        "actor_role",
        "actor_department",
        "action",
        "subject",
        "case_id",
        "chain_seq",
    ]
    # The log grows without end: no list filters or date hierarchy (each scans the whole table), and
    # searches match exactly what the indexes hold.
    search_fields = ["=actor_id", "=actor_department", "=subject_id", "=case_id", "=ticket_id", "=action"]
    search_help_text = _("Exact actor id, department code, subject id, case, ticket or action.")
    show_full_result_count = False
    fields = [
        "at",
        "actor_kind",
        "actor_id",
        "actor_label",
        "actor_role",
        "actor_department",
        "action",
        "subject_type",
        "subject_id",
        "case_id",
        "ticket_id",
        "purpose",
        "details_pretty",
        "chain",
        "seq",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields

    @admin.display(description=_("subject"))
    def subject(self, obj):
        return f"{obj.subject_type} {obj.subject_id}".strip()

    @admin.display(description=_("chain:seq"), ordering="chain")
    def chain_seq(self, obj):
        return f"{obj.chain}:{obj.seq}"

    @admin.display(description=_("details"))
    def details_pretty(self, obj):
        import json

        return format_html(
            "<pre style='white-space: pre-wrap'>{}</pre>",
            json.dumps(obj.details_data, indent=2, ensure_ascii=False, sort_keys=True),
        )


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(AuditReadOnlyAdmin):
    list_display = ["id", "at", "entries", "fingerprint"]
    fields = ["id", "at", "entries", "heads", "key_fingerprint", "signature"]
    readonly_fields = fields

    @admin.display(description=_("key fingerprint"))
    def fingerprint(self, obj):
        return obj.key_fingerprint[:16]


# --- end audit chain ---------------------------------------------------------
