from django.core.management.base import BaseCommand, CommandError

import carriers
from chatserver import actions


class Command(BaseCommand):
    help = "Add a sender number (E.164) on a carrier."

    def add_arguments(self, parser):
        parser.add_argument("number")
        parser.add_argument("--carrier", required=True, choices=carriers.CARRIER_NAMES)
        parser.add_argument("--org", help="organisation name (default: the only one)")
        parser.add_argument("--agent", help="username of the agent who owns it")

    def handle(self, number, **options):
        try:
            organisation = actions.resolve_organisation(options["org"])
            agent = None
            if options["agent"]:
                agent = actions.find_agent(organisation, options["agent"])
            sender = actions.add_number(number, options["carrier"], organisation, agent)
        except actions.ActionError as exc:
            raise CommandError(exc.reason) from None
        if not options["org"]:
            self.stdout.write(f"Using organisation {organisation.name!r}.")
        self.stdout.write(
            f"Added {sender.number} on {sender.carrier} for {organisation.name!r}."
        )
        missing = carriers.missing_settings(sender.carrier)
        if missing:
            self.stdout.write(
                self.style.WARNING(
                    f"{sender.carrier} is not configured here: set "
                    f"{', '.join(missing)} before this number can text."
                )
            )
