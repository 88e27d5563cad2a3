"""Health staff record a birth (出生登记) as the hospital reports it: the birth register's owner service.

Recording it emits ``person.born``; the proactive services then offer the family the newborn bundle, prefilled.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.identity.permissions import staff_required
from tongban.identity.selectors import actor_from_request, person_get_by_resident_id

from .registry_services import birth_record_create, is_registry_staff


class BirthForm(forms.Form):
    baby_name = forms.CharField(label=gettext_lazy("Name of the newborn"), max_length=32)
    baby_sex = forms.ChoiceField(
        label=gettext_lazy("Sex"), choices=[("F", gettext_lazy("Female")), ("M", gettext_lazy("Male"))]
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    weight_g = forms.IntegerField(
        label=gettext_lazy("Weight (g)"), min_value=300, max_value=8000, initial=3300
    )
    hospital = forms.CharField(label=gettext_lazy("Place of delivery"), max_length=100)
    mother_resident_id = forms.CharField(label=gettext_lazy("Mother's resident ID number"), max_length=18)
    father_resident_id = forms.CharField(
        label=gettext_lazy("Father's resident ID number"), max_length=18, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > dt.date.today():  # noqa: DTZ011 - a calendar date typed by staff
            raise ValidationError(_("A birth cannot be in the future."))
        return value

    def _person(self, field, *, required):
        value = (self.cleaned_data.get(field) or "").strip().upper()
        if not value:
            if required:
                raise ValidationError(_("This field is required."))
            return None
        person = person_get_by_resident_id(value)
        if person is None:
            raise ValidationError(_("No person with this resident ID number is registered."))
        return person

    def clean_mother_resident_id(self):
        return self._person("mother_resident_id", required=True)

    def clean_father_resident_id(self):
        return self._person("father_resident_id", required=False)


@staff_required
def birth_record_new(request):
    """The form health staff use to record a birth; only the birth register's owner (health) may use it."""
    if not is_registry_staff(request.user, "births"):
        raise PermissionDenied(_("Only the health department records births."))
    form = BirthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = birth_record_create(
                actor=actor_from_request(request),
                baby_name=data["baby_name"],
                baby_sex=data["baby_sex"],
                birth_date=data["birth_date"],
                weight_g=data["weight_g"],
                hospital=data["hospital"],
                mother=data["mother_resident_id"],
                father=data["father_resident_id"],
            )
        except ValidationError as exc:
            for field, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
                form.add_error(None if field == "__all__" or field not in form.fields else field, errors)
        else:
            messages.success(
                request,
                _(
                    "Birth recorded: certificate %(number)s. The proactive rules now decide whether the family "
                    "is offered the newborn bundle; an offer, if made, reaches the family's messages."
                )
                % {"number": record.certificate_number},
            )
            return redirect("exchange:birth-new")
    return render(request, "exchange/registries/birth_new.html", {"form": form})
