from rest_framework.routers import DefaultRouter

from . import views

app_name = "notifications-api"

router = DefaultRouter()
router.include_root_view = False
router.register("channels", views.ChannelViewSet, basename="channel")
router.register("notifications/events", views.EventViewSet, basename="event")
router.register("notifications/deliveries", views.DeliveryViewSet, basename="delivery")
router.register("maintenance-windows", views.WindowViewSet, basename="window")
router.register("probe-mutes", views.MuteViewSet, basename="mute")

urlpatterns = router.urls
