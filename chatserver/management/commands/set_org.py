from django.core.management.base import BaseCommand, CommandError

from chatserver import actions
from chatserver.models import Organisation


class Command(BaseCommand):
    help = (
        "Change an organisation's plan (its message limit). Its open consoles "
        "follow within a second."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="organisation name (default: the only one)")
        parser.add_argument(
            "--limit",
            required=True,
            choices=Organisation.MessageLimit.values,
            help="standard: 160 characters (GSM-7); advanced: 640, any character",
        )

    def handle(self, **options):
        try:
            organisation = actions.resolve_organisation(options["org"])
            organisation = actions.set_organisation_limit(organisation, options["limit"])
        except actions.ActionError as exc:
            raise CommandError(exc.reason) from None
        if not options["org"]:
            self.stdout.write(f"Using organisation {organisation.name!r}.")
        self.stdout.write(
            f"{organisation.name}: {organisation.get_message_limit_display()}."
        )
