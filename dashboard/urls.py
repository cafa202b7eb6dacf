from django.urls import path

from dashboard import alerts_views, live_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.login_page, name="login"),
    path("signup/", views.signup, name="signup"),
    path("logout/", views.logout_view, name="logout"),
    path("cards.json", views.cards_refresh, name="cards-refresh"),
    path("devices/new/", views.device_new, name="device-new"),
    path("devices/<int:pk>/connect/", views.device_connect, name="device-connect"),
    path("devices/<int:pk>/token.json", views.device_token, name="device-token-json"),
    path("devices/<int:pk>/plots/", views.device_plots, name="device-plots"),
    path("devices/<int:pk>/last-image/<str:kind>/", views.device_last_image, name="device-last-image"),
    path("devices/<int:pk>/keep-last-image/", views.device_keep_last_image, name="device-keep-last-image"),
    path("download/", views.download, name="download"),
    path("alerts/", alerts_views.alert_history, name="alerts"),
    path("devices/<int:pk>/alerts/", alerts_views.device_alert_rules, name="device-alert-rules"),
    path("live/", live_views.live_demo, name="live-demo"),
]
