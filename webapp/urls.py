from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("topology.api.urls")),
    path("api/v1/", include("probes.api.urls")),
    path("api/v1/", include("decisions.api.urls")),
    path("api/v1/", include("decisions.api.rule_urls")),
    path("api/v1/", include("reports.api.madr_urls")),
    path("api/v1/", include("reports.api.export_urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/", include("imports.api.urls")),
    path("api/v1/", include("notifications.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("decisions.rule_page_urls")),
    path("", include("decisions.urls")),
    path("", include("dashboard.urls")),
    path("", include("topology.urls")),
    path("", include("topology.page_urls")),
    path("", include("probes.urls")),
    path("", include("reports.urls")),
    path("", include("imports.urls")),
    path("", include("notifications.urls")),
]
