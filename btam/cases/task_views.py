from django.urls import path

from btam.cases._stub import placeholder

urlpatterns = [path("<int:pk>/tasks/", placeholder, name="tasks"), path("my-tasks/", placeholder, name="my_tasks")]
