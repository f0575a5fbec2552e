from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("incidents.overview.urls")),
    path("", include("crisisdesk.web_urls")),
    path("incidents/", include("incidents.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("playbooks/", include("playbooks.urls")),
    # Public, no sign-in: dark sites (incidents.publishing.public).
    path("status/", include("incidents.publishing.public_urls")),
    path("api/", include("crisisdesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("django-admin/", admin.site.urls),
]

# JSON under /api/, the HTML page elsewhere.
handler404 = "crisisdesk.api_errors.not_found"
