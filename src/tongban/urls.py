from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from tongban.core.resolvers import CachedResolver

admin.site.site_header = _("Tongban 通办 back office")
admin.site.site_title = _("Tongban 通办")
admin.site.index_title = _("Back-office data")

site_patterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/", include("tongban.api.urls")),
    path("api/v1/partner/", include("tongban.integrations.api_urls")),
    path("oauth/", include("tongban.integrations.oauth_urls")),
    path("accounts/oidc/", include("tongban.integrations.urls")),
    path("open311/v2/", include("tongban.hotline.open311_urls")),
    path("accounts/", include("tongban.identity.urls")),
    path("workbench/supervision/", include("tongban.supervision.urls")),
    path("workbench/hotline/", include("tongban.hotline.urls")),
    path("workbench/indicators/", include("tongban.indicators.urls")),
    path("open-data/", include("tongban.indicators.open_urls")),
    path("workbench/", include("tongban.workbench.urls")),
    path("services/", include("tongban.catalog.urls")),
    path("cases/", include("tongban.cases.urls")),
    path("data/", include("tongban.exchange.urls")),
    path("licences/", include("tongban.licences.urls")),
    path("inbox/", include("tongban.messaging.urls")),
    path("offers/", include("tongban.proactive.urls")),
    path("ratings/", include("tongban.evaluation.urls")),
    path("enterprise/", include("tongban.enterprise.urls")),
    path("12345/", include("tongban.hotline.portal_urls")),
    path("", include("tongban.portal.urls")),
]
if settings.DEBUG:
    site_patterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# One include that remembers each path's match (core.resolvers): the lists are asked by the same few paths.
urlpatterns = [CachedResolver(site_patterns)]

handler400 = "tongban.portal.views.bad_request"
handler403 = "tongban.portal.views.permission_denied"
handler404 = "tongban.portal.views.page_not_found"
handler500 = "tongban.portal.views.server_error"
