"""The purposes the platform's own lookups are recorded under, in words for each language.

A purpose is written on a sharing grant and on every data use as it is (the grant is matched by that text, so it
is never translated where it is stored): the platform's engines use the Chinese words below, staff pages of the
registries the English phrases of ``views_registries.PURPOSES`` (in the language of the page). A page names a
recorded purpose with ``purpose_label``: the phrase of the page's language when the purpose is one of these,
the recorded words otherwise (a purpose a department typed on its grant)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

PURPOSE_LABELS = {
    "办件受理核验": _("Checking an application's evidence"),
    "表单预填": _("Prefilling an application form"),
    "主动服务": _("Proactive service"),
    "惠企政策": _("Policies for enterprises"),
    "法人一证通": _("The organisation's certificate"),
    "handling": _("Handling a case"),
    "window acceptance": _("Accepting an application at a window"),
    "case handling": _("Handling a case"),
    "registration": _("Handling a registration"),
    "verification": _("Verifying data for a case"),
    "correction": _("Correcting the registry"),
    "enquiry": _("Answering an enquiry by the person concerned"),
}

_BY_TEXT: dict[str, object] = {}


def _by_text() -> dict:
    """Every known purpose by each text it may have been recorded under (the key, or its words in either language:
    a registry page records its purpose in the language of the page)."""
    if not _BY_TEXT:
        for key, label in PURPOSE_LABELS.items():
            _BY_TEXT[key] = label
            for language in ("zh-hans", "en"):
                with override(language):
                    _BY_TEXT.setdefault(str(label), label)
    return _BY_TEXT


def purpose_label(purpose: str) -> str:
    """A recorded purpose in the page's language (see the module's docstring)."""
    label = _by_text().get(purpose or "")
    return str(label) if label is not None else purpose
