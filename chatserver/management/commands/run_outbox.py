import signal
import threading

from django.core.management.base import BaseCommand

import carriers
from chatserver import doorbell
from chatserver.worker import loop


class Command(BaseCommand):
    help = "Send queued messages (the Procfile's worker)."

    def handle(self, **options):
        carriers.load_offered()
        stop = threading.Event()

        def finish(signum, frame):
            # A PaaS stops a worker with SIGTERM: end the send in progress
            # (so no text is left 'sending'), then exit.
            stop.set()
            doorbell.wake()

        signal.signal(signal.SIGTERM, finish)
        signal.signal(signal.SIGINT, finish)
        loop.run_forever(stop)
