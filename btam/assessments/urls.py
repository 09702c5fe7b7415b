"""Assessment, plan and monitoring pages. Case pages live under ``/cases/<pk>/`` (numbers only in
paths, as in btam/cases/urls.py); district pages under ``/assessments/``. One namespace; each area
keeps its patterns in its own module."""

from btam.assessments import assessment_views, monitoring_views, plan_views, settings_views

app_name = "assessments"

urlpatterns = [
    *assessment_views.urlpatterns,
    *plan_views.urlpatterns,
    *monitoring_views.urlpatterns,
    *settings_views.urlpatterns,
]
