"""Saved replies, as admins manage them from the console: templates and
their categories, each found in the admin's own organisation (another's ids
are "not found"), changed by ``chatserver.actions.templates``."""

from __future__ import annotations

from chatserver.actions import templates
from chatserver.commands.fields import Data, ident
from chatserver.models import Agent, MessageCategory, Template
from chatserver.queries import access
from chatserver.rules.errors import ActionError


def require_admin(agent: Agent) -> None:
    if not access.is_admin(agent):
        raise ActionError("Only admins manage saved replies.", "forbidden")


def template_of(agent: Agent, data: Data) -> Template:
    template = Template.objects.filter(
        pk=ident(data, "template"), organisation_id=agent.organisation_id
    ).first()
    if template is None:
        raise ActionError("No such template.", "not_found")
    return template


def category_of(agent: Agent, data: Data) -> MessageCategory | None:
    """The category ``data["category"]`` names (absent or null: none)."""
    category_id = ident(data, "category", nullable=True, required=False)
    if category_id is None:
        return None
    category = MessageCategory.objects.filter(
        pk=category_id, organisation_id=agent.organisation_id
    ).first()
    if category is None:
        raise ActionError("No such message category.", "not_found")
    return category


def template_data(template: Template) -> Data:
    return {
        "id": template.id,
        "name": template.name,
        "body": template.body,
        "category": template.category_id,
    }


def category_data(category: MessageCategory) -> Data:
    return {"id": category.id, "name": category.name}


def save_template(agent: Agent, data: Data) -> Data:
    """``{"template"?: id, "name": text, "body": text, "category"?: id|null}``:
    a new template, or changes to one."""
    existing = template_of(agent, data) if "template" in data else None
    category = category_of(agent, data)
    require_admin(agent)
    template = templates.save_template(
        agent.organisation, existing, data.get("name"), data.get("body"), category
    )
    return template_data(template)


def delete_template(agent: Agent, data: Data) -> Data:
    """``{"template": id}``."""
    template = template_of(agent, data)
    require_admin(agent)
    templates.delete_template(template)
    return {"deleted": template_data(template)}


def save_category(agent: Agent, data: Data) -> Data:
    """``{"category"?: id, "name": text}``: a new category, or its new name."""
    existing = category_of(agent, data) if "category" in data else None
    require_admin(agent)
    category = templates.save_category(agent.organisation, existing, data.get("name"))
    return category_data(category)


def delete_category(agent: Agent, data: Data) -> Data:
    """``{"category": id}``: its templates and messages keep no category."""
    category = category_of(agent, data)
    if category is None:
        raise ActionError("'category' is missing.", "invalid")
    require_admin(agent)
    templates.delete_category(category)
    return {"deleted": category_data(category)}
