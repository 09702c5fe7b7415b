"""``{{ comment.body|linebreaks|mentions }}``: the @handles of a comment in bold."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from btam.discussion.mentions import MENTION

register = template.Library()


@register.filter
def mentions(html: str) -> SafeString:
    """Wrap each @handle of already escaped HTML (or text, escaped here) in ``<strong>``. A handle
    holds no ``<``, ``>``, ``&`` or quote, so the markup around it is untouched."""
    escaped = conditional_escape(html)
    return mark_safe(  # noqa: S308 (escaped above; the match holds only handle characters)
        MENTION.sub(lambda m: f'<strong class="btam-mention">{m.group(0)}</strong>', escaped)
    )
