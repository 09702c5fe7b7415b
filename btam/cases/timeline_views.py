from django.urls import path

from btam.cases._stub import placeholder

urlpatterns = [
    path("<int:pk>/timeline/", placeholder, name="timeline"),
    path("<int:pk>/reporter/", placeholder, name="reporter"),
]
