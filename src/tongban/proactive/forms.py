from django import forms
from django.core.exceptions import ValidationError

from .models import ProactiveRule
from .rules import condition_error


class RuleForm(forms.ModelForm):
    """Shape of a rule; the service checks the rest (topic, template, service) when saving."""

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
        widgets = {
            "condition": forms.Textarea(attrs={"rows": 3, "class": "font-monospace", "spellcheck": "false"}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
        for name, field in self.fields.items():
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control"
            if isinstance(field.widget, forms.Select):
                css = "form-select"
            field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {css}".strip()
            field.widget.attrs.setdefault("aria-describedby", f"id_{name}_help")

    def clean_condition(self):
        condition = self.cleaned_data.get("condition", "")
        error = condition_error(condition)
        if error is not None:
            raise ValidationError(str(error), code="invalid")
        return condition
