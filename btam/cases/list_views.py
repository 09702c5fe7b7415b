from django.urls import path

from btam.cases._stub import placeholder

urlpatterns = [path("", placeholder, name="list")]
