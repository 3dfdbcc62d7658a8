"""Saved replies: the organisation's message templates and the categories
that file them, created, edited and deleted by its admins in the console.

Every change tells the organisation's consoles (``templates.changed``, a
signal that is not logged: what it says is re-read from the database), so an
open composer offers the new wording at once.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from carriers.base import unstorable
from chatserver import events
from chatserver.models import MessageCategory, Organisation, Template
from chatserver.publish import signal
from chatserver.rules import templating
from chatserver.rules.errors import ActionError
from chatserver.rules.text import clean_text

TEMPLATE_NAME = Template._meta.get_field("name").max_length
CATEGORY_NAME = MessageCategory._meta.get_field("name").max_length
# Long enough for the longest text a plan allows, with its merge fields.
TEMPLATE_BODY = 2000


def tell_consoles(organisation_id: int) -> None:
    """Once committed: every console of the organisation re-reads its
    templates."""
    signal(
        organisation_id,
        lambda: (
            [events.organisation_group(organisation_id)],
            {"type": "templates.changed"},
        ),
    )


def clean_body(body) -> str:
    """A template's text: present, storable, and only known merge fields."""
    if not isinstance(body, str) or not body.strip():
        raise ActionError("Write the template's text.", "invalid")
    problem = unstorable(body)
    if problem:
        raise ActionError(f"The template's text: {problem}", "invalid")
    body = body.strip()
    if len(body) > TEMPLATE_BODY:
        raise ActionError(
            f"The template's text is too long ({len(body)} of {TEMPLATE_BODY} "
            "characters).",
            "invalid",
        )
    try:
        templating.check(body)
    except templating.TemplateError as exc:
        raise ActionError(str(exc), "invalid") from None
    return body


@transaction.atomic
def save_template(
    organisation: Organisation,
    template: Template | None,
    name,
    body,
    category: MessageCategory | None,
) -> Template:
    """Create a template (``template`` None) or change one, checked."""
    if category is not None and category.organisation_id != organisation.id:
        raise ActionError("No such message category.", "not_found")
    template = template or Template(organisation=organisation)
    template.name = clean_text(name, "template's name", TEMPLATE_NAME, required=True)
    template.body = clean_body(body)
    template.category = category
    template.save()
    tell_consoles(organisation.id)
    return template


@transaction.atomic
def delete_template(template: Template) -> None:
    """Delete a template, unless a keyword rule answers with it."""
    try:
        with transaction.atomic():
            template.delete()
    except ProtectedError:
        words = ", ".join(rule.keyword for rule in template.keyword_rules.all())
        raise ActionError(
            f"This saved reply answers the keyword {words}: change or delete "
            "that keyword rule first.",
            "in_use",
        ) from None
    tell_consoles(template.organisation_id)


@transaction.atomic
def save_category(
    organisation: Organisation, category: MessageCategory | None, name
) -> MessageCategory:
    """Create a category (``category`` None) or rename one; names are unique
    in an organisation."""
    category = category or MessageCategory(organisation=organisation)
    category.name = clean_text(name, "category's name", CATEGORY_NAME, required=True)
    taken = MessageCategory.objects.filter(
        organisation=organisation, name__iexact=category.name
    ).exclude(pk=category.pk)
    if taken.exists():
        raise ActionError(f"A category named {category.name!r} exists already.")
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        raise ActionError(
            f"A category named {category.name!r} exists already."
        ) from None
    tell_consoles(organisation.id)
    return category


@transaction.atomic
def delete_category(category: MessageCategory) -> None:
    """Delete a category: its templates and messages keep no category."""
    category.delete()
    tell_consoles(category.organisation_id)
