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
