from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notifications_page, name="notifications"),
    path("notifications/channels/<int:pk>/", views.channel_page, name="channel-detail"),
    path("notifications/channels/<int:pk>/test/", views.channel_test_view, name="channel-test"),
    path("notifications/channels/<int:pk>/delete/", views.channel_delete_view, name="channel-delete"),
    path("notifications/deliveries/<int:pk>/resend/", views.delivery_resend_view, name="delivery-resend"),
    path("notifications/windows/", views.window_create_view, name="window-create"),
    path("notifications/windows/<int:pk>/delete/", views.window_delete_view, name="window-delete"),
    path("notifications/mutes/", views.mute_create_view, name="mute-create"),
    path("notifications/mutes/<int:pk>/delete/", views.mute_delete_view, name="mute-delete"),
]
