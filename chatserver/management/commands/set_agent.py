from django.core.management.base import BaseCommand, CommandError

from chatserver import actions
from chatserver.models import Agent

ON_OFF = {"on": True, "off": False}
YES_NO = {"yes": True, "no": False}


class Command(BaseCommand):
    help = (
        "Change what an agent may see or do. Their open consoles follow within "
        "a second; a deactivated agent's consoles are closed."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--org", help="organisation name (default: the only one)")
        parser.add_argument("--access", choices=Agent.Access.values)
        parser.add_argument("--sms", choices=["allow", "deny", "unset"])
        parser.add_argument("--images", choices=list(ON_OFF), help="show MMS images")
        parser.add_argument("--active", choices=list(YES_NO))
        parser.add_argument(
            "--group", help="join this agent group (made when new)"
        )
        parser.add_argument("--leave-group", help="leave this agent group")

    def handle(self, username, **options):
        try:
            organisation = actions.resolve_organisation(options["org"])
            agent = actions.find_agent(organisation, username)
            agent = actions.set_agent(
                agent,
                access=options["access"],
                sms=options["sms"],
                images=ON_OFF.get(options["images"]),
                active=YES_NO.get(options["active"]),
                join_group=options["group"],
                leave_group=options["leave_group"],
            )
        except actions.ActionError as exc:
            raise CommandError(exc.reason) from None
        if not options["org"]:
            self.stdout.write(f"Using organisation {organisation.name!r}.")
        groups = ", ".join(agent.agent_groups.values_list("name", flat=True)) or "none"
        self.stdout.write(
            f"{agent.user.username}: access {agent.access}, SMS {agent.sms or 'unset'}, "
            f"images {'on' if agent.display_images else 'off'}, "
            f"{'active' if agent.user.is_active else 'deactivated'}, groups {groups}."
        )
