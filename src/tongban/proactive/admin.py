from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from tongban.identity.selectors import actor_from_request

from . import services
from .models import EnterprisePolicy, LifeEvent, Offer, ProactiveRule, RuleRun
from .rules import condition_error


class ProactiveRuleForm(forms.ModelForm):
    class Meta:
        model = ProactiveRule
        fields = [
            "code",
            "name_zh",
            "name_en",
            "description",
            "trigger",
            "condition",
            "action",
            "topic",
            "template",
            "service",
            "once_per_subject",
            "active",
        ]

    def clean_condition(self):
        condition = self.cleaned_data.get("condition", "")
        error = condition_error(condition)
        if error is not None:
            raise ValidationError(str(error))
        return condition

    def clean(self):
        """The services' own checks (service, topic, template), shown as form errors rather than a 500 at save."""
        data = super().clean()
        if self.errors:
            return data
        candidate = ProactiveRule(
            pk=self.instance.pk,
            code=data.get("code") or self.instance.code,
            **{name: data[name] for name in services.RULE_FIELDS if name in data},
        )
        candidate._state.adding = self.instance._state.adding
        try:
            services.rule_check(candidate)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return data


@admin.register(ProactiveRule)
class ProactiveRuleAdmin(admin.ModelAdmin):
    form = ProactiveRuleForm
    list_display = ("code", "name_zh", "trigger", "action", "service", "active")
    list_filter = ("trigger", "action", "active")
    search_fields = ("code", "name_zh", "name_en")
    readonly_fields = ("created_by",)

    def save_model(self, request, obj, form, change):
        fields = {name: getattr(obj, name) for name in services.RULE_FIELDS}
        actor = actor_from_request(request)
        if change:
            services.rule_update(actor=actor, rule=obj, **fields)
        else:
            saved = services.rule_create(actor=actor, code=obj.code, created_by=request.user, **fields)
            obj.pk = saved.pk


@admin.register(LifeEvent)
class LifeEventAdmin(admin.ModelAdmin):
    list_display = ("kind", "key", "occurred_on", "person", "organisation", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("person", "organisation")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ("rule", "status", "person", "organisation", "created_at", "decided_at")
    list_filter = ("status", "rule")
    raw_id_fields = ("person", "organisation", "life_event")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RuleRun)
class RuleRunAdmin(admin.ModelAdmin):
    list_display = ("rule", "outcome", "person", "organisation", "created_at")
    list_filter = ("outcome", "rule")
    raw_id_fields = ("person", "organisation", "life_event")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EnterprisePolicy)
class EnterprisePolicyAdmin(admin.ModelAdmin):
    """惠企政策: the policy's words and dates are edited here; its eligibility and action are its rule's (edited with
    the rule, whose condition is checked)."""

    list_display = ("code", "name_zh", "department", "valid_until", "rule")
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("department", "rule")
    readonly_fields = ("code", "rule")
    fields = ("code", "name_zh", "name_en", "department", "summary", "legal_basis", "valid_until", "rule")

    def has_add_permission(self, request):
        return False  # created through policy_create (API), which writes the rule and checks its condition
