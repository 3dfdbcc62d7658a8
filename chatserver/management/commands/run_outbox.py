import signal
import threading

from django.core.management.base import BaseCommand

from chatserver.worker import loop as outbox
from chatserver.apps import load_offered_carriers


class Command(BaseCommand):
    help = "Send queued messages (the Procfile's worker)."

    def handle(self, **options):
        load_offered_carriers()
        stop = threading.Event()

        def finish(signum, frame):
            # A PaaS stops a worker with SIGTERM: end the send in progress
            # (so no text is left 'sending'), then exit.
            stop.set()
            outbox.wake()

        signal.signal(signal.SIGTERM, finish)
        signal.signal(signal.SIGINT, finish)
        outbox.run_forever(stop)
