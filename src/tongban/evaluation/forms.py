"""The rating form: five levels, the sub-items of the case's channel, a comment. Shape only; the rules are
``services.rating_validate``'s."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Rating

LEVELS = sorted(Rating.Level.choices, reverse=True)  # 非常满意 first, as on the national 好差评 pages
SCORES = [(str(n), str(n)) for n in range(5, 0, -1)]


class RatingForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("Overall"), choices=LEVELS, coerce=int, widget=forms.RadioSelect, required=True
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        help_text=_("Required for a rating of 'dissatisfied' or 'very dissatisfied'."),
    )

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        for key, label in Rating.SUB_ITEMS[channel].items():
            self.fields[f"score_{key}"] = forms.TypedChoiceField(
                label=label, choices=SCORES, coerce=int, widget=forms.RadioSelect, required=True
            )

    def score_fields(self):
        return [self[f"score_{key}"] for key in Rating.SUB_ITEMS[self.channel]]

    def scores(self) -> dict:
        return {key: self.cleaned_data[f"score_{key}"] for key in Rating.SUB_ITEMS[self.channel]}

    def add_service_errors(self, error) -> None:
        """Put a service's ValidationError (``scores.<item>`` keys) on the form's fields."""
        for key, messages in error.message_dict.items():
            field = f"score_{key.removeprefix('scores.')}" if key.startswith("scores.") else key
            self.add_error(field if field in self.fields else None, messages)
