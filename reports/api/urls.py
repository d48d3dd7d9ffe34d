from rest_framework.routers import DefaultRouter

from . import jobs

app_name = "reports-api"

router = DefaultRouter()
router.include_root_view = False
router.register("reports", jobs.ReportViewSet, basename="report")

urlpatterns = router.urls
