from django.core.management.base import BaseCommand, CommandError

from chatserver import actions


class Command(BaseCommand):
    help = "Create an organisation."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, name, **options):
        try:
            organisation = actions.add_organisation(name)
        except actions.ActionError as exc:
            raise CommandError(exc.reason) from None
        self.stdout.write(f"Created organisation {organisation.name!r} (id {organisation.id}).")
