"""Outbox handlers of the people app (imported at start-up by the worker app)."""

from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse

from btam.accounts.models import User
from btam.orgs.models import District
from btam.people.staff_accounts import INVITE_KIND
from btam.worker import outbox
from btam.worker.models import OutboxMessage


def invite_link(user: User, base_url: str) -> str:
    """allauth's set-password link (its password reset), valid until the password is set."""
    token = default_token_generator.make_token(user)
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": token})
    return base_url.rstrip("/") + path


@outbox.handler(INVITE_KIND)
def send_staff_invite(message: OutboxMessage) -> None:
    """Payload: ``{"user_id", "district_id", "base_url"}``. The link is made at delivery, never stored."""
    payload = message.payload
    user = User.objects.filter(pk=payload.get("user_id")).first()
    if user is None or user.has_usable_password():
        return  # the account is gone, or its password is set already: nothing to send
    base_url = str(payload.get("base_url") or "")
    if not base_url.startswith(("https://", "http://")):
        raise outbox.PermanentDeliveryError("A staff invitation needs the site's address (base_url).")
    district = District.objects.filter(pk=payload.get("district_id")).first()
    site = settings.BTAM_SITE_NAME
    body = (
        f"{district.name if district else 'Your district'} prepared a {site} account for {user.email} "
        "from its staff roster.\n\n"
        f"Set its password here (the link works once, for {settings.PASSWORD_RESET_TIMEOUT // 86400} days):\n"
        f"{invite_link(user, base_url)}\n\n"
        "The account cannot be used until your district's database manager gives it an access level. "
        "If you did not expect this email, you can ignore it.\n"
    )
    EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Your {site} account",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"Message-ID": outbox.message_id_header(message)},
    ).send(fail_silently=False)
