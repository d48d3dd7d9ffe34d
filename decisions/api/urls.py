from rest_framework.routers import DefaultRouter

from . import views

app_name = "decisions-api"

router = DefaultRouter()
router.include_root_view = False
router.register("decisions", views.DecisionViewSet, basename="decision")

urlpatterns = router.urls
