"""The leader's monitoring board: the page and the panels its htmx poll reloads."""

from django.urls import path

from btam.board import views

app_name = "board"

urlpatterns = [
    path("", views.index, name="index"),
    path("panels/", views.panels_view, name="panels"),
]
