"""Staff pages of intake: the triage queue, a report, surge groups, staff referrals.

Numbers only in these paths: no name or report content ever goes in a URL (the person search of
the referral form is a POST)."""

from django.urls import path

from btam.intake import referral_views, triage_views

app_name = "intake"

urlpatterns = [
    path("", triage_views.queue, name="queue"),
    path("<int:pk>/", triage_views.report_detail, name="report"),
    path("<int:pk>/acknowledge/", triage_views.acknowledge, name="acknowledge"),
    path("<int:pk>/urgency/", triage_views.change_urgency, name="change_urgency"),
    path("<int:pk>/screen-out/", triage_views.screen_out, name="screen_out"),
    path("<int:pk>/refer/", triage_views.refer, name="refer"),
    path("<int:pk>/duplicate/", triage_views.mark_duplicate, name="mark_duplicate"),
    path("<int:pk>/open-case/", triage_views.open_case, name="open_case"),
    path("<int:pk>/abuse/", triage_views.mark_abuse, name="mark_abuse"),
    path("<int:pk>/not-abuse/", triage_views.unmark_abuse, name="unmark_abuse"),
    path("<int:pk>/reopen/", triage_views.reopen, name="reopen"),
    path("<int:pk>/message/", triage_views.post_message, name="post_message"),
    path("attachments/<int:pk>/", triage_views.attachment_download, name="attachment"),
    path("groups/<int:pk>/", triage_views.surge_group, name="surge_group"),
    path("groups/<int:pk>/acknowledge/", triage_views.acknowledge_group, name="acknowledge_group"),
    # Staff referrals (referral_views.py).
    path("referrals/", referral_views.referral_list, name="referrals"),
    path("referrals/new/", referral_views.referral_new, name="referral_new"),
    path("referrals/people/", referral_views.referral_people, name="referral_people"),
]
