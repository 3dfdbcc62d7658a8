from django.core.management.base import BaseCommand, CommandError

from chatserver import actions
from chatserver.models import Agent


class Command(BaseCommand):
    help = "Create a user with an agent seat in an organisation."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--org", help="organisation name (default: the only one)")
        parser.add_argument("--access", choices=Agent.Access.values, default="mine")
        parser.add_argument("--sms", choices=["allow", "deny"], default="")
        parser.add_argument("--admin", action="store_true", help="staff and superuser")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--external", action="store_true",
                            help="an outside partner: read-only, shared leads only")

    def handle(self, username, **options):
        try:
            organisation = actions.resolve_organisation(options["org"])
            agent = actions.add_agent(
                username,
                options["password"],
                organisation,
                access=options["access"],
                sms=options["sms"],
                admin=options["admin"],
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                external=options["external"],
                # Django's password validators, as createsuperuser runs them.
                check_password=True,
            )
        except actions.ActionError as exc:
            raise CommandError(exc.reason) from None
        if not options["org"]:
            self.stdout.write(f"Using organisation {organisation.name!r}.")
        self.stdout.write(
            f"Created agent {agent.user.username!r} in {organisation.name!r} "
            f"(access {agent.access}, SMS {agent.sms or 'unset'})."
        )
