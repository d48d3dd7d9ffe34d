from rest_framework.routers import DefaultRouter

from . import views

app_name = "probes-api"

router = DefaultRouter()
router.include_root_view = False
router.register("probes", views.ProbeViewSet, basename="probe")

urlpatterns = router.urls
