from django.urls import path

from btam.accounts import views

urlpatterns = [
    path("security/", views.security, name="accounts_security"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="accounts_sign_out_everywhere"),
]
