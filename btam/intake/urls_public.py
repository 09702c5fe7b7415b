"""Public pages: the report form, the receipt, follow-up with the code, posters. No sign-in.

No URL here names a report: a report is reached only with its receipt code, typed into a form.
The fixed paths come before the school patterns, so ``follow-up``, ``receipt`` and ``posters``
are not read as school or district short names.
"""

from django.urls import path

from btam.intake import poster_views, public_views

app_name = "report"

urlpatterns = [
    path("", public_views.choose_school, name="choose_school"),
    path("follow-up/", public_views.followup, name="followup"),
    path("follow-up/thread/", public_views.followup_thread, name="followup_thread"),
    path("follow-up/sign-out/", public_views.followup_sign_out, name="followup_sign_out"),
    path("receipt/download/", public_views.receipt_download, name="receipt_download"),
    path("posters/", poster_views.poster_index, name="posters"),
    path("<slug:school_slug>/", public_views.school_form, name="school"),
    path("<slug:school_slug>/poster.pdf", poster_views.poster_pdf, name="poster"),
    path("<slug:district_slug>/<slug:school_slug>/", public_views.district_school_form, name="school_in_district"),
    path(
        "<slug:district_slug>/<slug:school_slug>/poster.pdf",
        poster_views.poster_pdf,
        name="poster_in_district",
    ),
]
