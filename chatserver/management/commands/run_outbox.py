from django.core.management.base import BaseCommand

from chatserver import outbox


class Command(BaseCommand):
    help = "Send queued messages (the Procfile's worker)."

    def handle(self, **options):
        try:
            outbox.run_forever()
        except KeyboardInterrupt:
            pass
