from django.urls import path

from btam.cases._stub import placeholder

urlpatterns = [path("<int:pk>/notes/", placeholder, name="notes")]
