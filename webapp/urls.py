from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, include, path
from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

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
    path("api/v1/", include("plans.api.urls")),
    # The refusals every operation can answer with are added to what each view documents (core.openapi).
    path("api/schema/", SpectacularAPIView.as_view(custom_settings={"POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums", "core.openapi.document_refusals"]}), name="schema"),
    # The split view serves Swagger UI's set-up script as a file (?script), not inline, so scripts stay
    # 'self' only. Its page has a <style> block of drf-spectacular's template and Swagger UI writes
    # style attributes: inline styles are allowed on this page alone.
    path("api/docs/", csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
         name="swagger-ui"),
    path("", include("decisions.rule_page_urls")),
    path("", include("decisions.urls")),
    path("", include("dashboard.urls")),
    path("", include("topology.urls")),
    path("", include("topology.page_urls")),
    path("", include("probes.urls")),
    path("", include("reports.urls")),
    path("", include("imports.urls")),
    path("", include("notifications.urls")),
    path("", include("plans.urls")),
]


# Content-Security-Policy exception (settings: CONTENT_SECURITY_POLICY): the pages that draw with the
# vendored Plotly (charts) or Mermaid (flow diagrams) allow inline *styles*, and only they. Both
# libraries create <style> elements with computed CSS and set style attributes on the SVG they draw,
# which no hash or nonce can cover. Scripts stay 'self' only on these pages too.
INLINE_STYLE_PAGES = {"dashboard", "probe-detail", "flow-detail", "flow-derive", "report-preview"}


def _allow_inline_styles(patterns) -> set[str]:
    found = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found |= _allow_inline_styles(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name in INLINE_STYLE_PAGES:
            if not getattr(pattern.callback, "_inline_styles", False):
                pattern.callback = csp_update({"style-src": [UNSAFE_INLINE]})(pattern.callback)
                pattern.callback._inline_styles = True
            found.add(pattern.name)
    return found


if _allow_inline_styles(urlpatterns) != INLINE_STYLE_PAGES:
    raise ImproperlyConfigured(f"INLINE_STYLE_PAGES names pages that do not exist: "
                               f"{sorted(INLINE_STYLE_PAGES - _allow_inline_styles(urlpatterns))}")

# A path under /api/ that no route matches gets a JSON 404 like the API's own (with DEBUG off).
handler404 = "core.api.not_found"
