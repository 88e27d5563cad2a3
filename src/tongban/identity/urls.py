from django.urls import path

from . import views

app_name = "identity"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("otp/verify/", views.otp_verify_view, name="otp-verify"),
    path("otp/setup/", views.otp_setup_view, name="otp-setup"),
]
