"""Request middleware shared by every front."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """zh-Hans unless the visitor chose another language with the switch (the language cookie).

    Django's own middleware follows the browser's Accept-Language; a city's service portal speaks
    Chinese first and offers English as a choice, so only an explicit choice changes the language.
    API clients cannot click a switch: under ``/api/`` their Accept-Language header still counts.
    """

    def process_request(self, request):
        if request.path_info.startswith("/api/"):
            return super().process_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        translation.activate(chosen if chosen in supported else settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()


class RejectNulMiddleware:
    """NUL bytes never reach a lookup: a path holding one is refused (400); query and form values lose theirs.

    No identifier, search term or form field legitimately holds a NUL, and PostgreSQL refuses NUL in any string it is
    given, so one reaching a query would be a 500. Done once here rather than at every lookup. JSON bodies are
    checked by DRF's fields; uploaded files are not fields and are not touched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            from django.http import HttpResponseBadRequest

            return HttpResponseBadRequest(
                "NUL bytes are not accepted.", content_type="text/plain; charset=utf-8"
            )
        if _has_nul(request.GET):
            request.GET = _without_nul(request.GET)
        if request.method == "POST" and request.content_type in _FORMS and _has_nul(request.POST):
            request.POST = _without_nul(request.POST)
        return self.get_response(request)


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())


def _without_nul(query):
    from django.http import QueryDict

    clean = QueryDict(mutable=True)
    for key, values in query.lists():
        clean.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
    clean._mutable = False
    return clean
