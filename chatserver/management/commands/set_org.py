from django.core.management.base import BaseCommand, CommandError

from chatserver import actions
from chatserver.models import Organisation


class Command(BaseCommand):
    help = (
        "Change an organisation's plan (its message limit), or how leads reach "
        "it (the HELP answer). Its open consoles follow within a second."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="organisation name (default: the only one)")
        parser.add_argument(
            "--limit",
            choices=Organisation.MessageLimit.values,
            help="standard: 160 characters (GSM-7); advanced: 640, any character",
        )
        parser.add_argument(
            "--help-contact",
            help="how a lead reaches you, said when they text HELP: a phone "
            "number, an email or a web address ('' for the number they texted)",
        )

    def handle(self, **options):
        if options["limit"] is None and options["help_contact"] is None:
            raise CommandError("Say what to change: --limit or --help-contact.")
        try:
            organisation = actions.resolve_organisation(options["org"])
            if options["limit"] is not None:
                organisation = actions.set_organisation_limit(
                    organisation, options["limit"]
                )
            if options["help_contact"] is not None:
                organisation = actions.set_help_contact(
                    organisation, options["help_contact"]
                )
        except actions.ActionError as exc:
            raise CommandError(exc.reason) from None
        if not options["org"]:
            self.stdout.write(f"Using organisation {organisation.name!r}.")
        contact = organisation.help_contact or "the number they texted"
        self.stdout.write(
            f"{organisation.name}: {organisation.get_message_limit_display()}; "
            f"HELP tells leads to reach it at {contact}."
        )
