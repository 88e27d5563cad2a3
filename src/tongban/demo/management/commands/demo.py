import os
import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the demo city: migrate the database, seed it if empty, then serve the web site together "
        "with a background worker until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--people", type=int, default=20_000, help="persons to seed into an empty city")
        parser.add_argument("--no-serve", action="store_true", help="prepare the city and stop")
        parser.add_argument(
            "--history-cases",
            type=int,
            default=None,
            help="past cases written once into a city without a history, for the indicators (default: people / 7)",
        )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        call_command("seed", if_empty=True, people=options["people"])
        history = options["history_cases"]
        self.indicators_prepare(options["people"] // 7 if history is None else history)
        if options["no_serve"]:
            return
        # Stop the children on SIGTERM as on Ctrl-C, so that none is left running.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        env = {**os.environ, "TONGBAN_DEMO": "1"}
        tongban = [sys.executable, "-m", "tongban.cli"]
        children = [
            subprocess.Popen([*tongban, "worker"], env=env),  # noqa: S603
            subprocess.Popen([*tongban, "serve", "--bind", options["bind"]], env=env),  # noqa: S603
        ]
        self.stdout.write(
            self.style.SUCCESS(
                f"Tongban demo city: http://{options['bind']}/  (workbench: /workbench/, admin: /admin/, "
                "API docs: /api/docs/). Press Ctrl-C to stop."
            )
        )
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("Stopping ...")
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGINT)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [child for child in children if child.returncode not in (0, -signal.SIGINT, -signal.SIGTERM)]
        if failed:
            sys.exit(1)

    def indicators_prepare(self, history_cases: int):
        """A past of cases for the dashboards, and the indicator rows of up to 400 days recomputed from the records:
        once, on the first start (the worker keeps the rows from then on)."""
        import datetime as dt

        from tongban.cases.models import Case
        from tongban.core import calendar
        from tongban.indicators.compute import history_bounds
        from tongban.indicators.models import Stat

        if Stat.objects.exists():
            return
        if history_cases and Case.objects.count() < history_cases // 2:
            call_command("seed", cases=history_cases, quiet=True)
        bounds = history_bounds()
        if bounds is None:
            return
        start = max(bounds[0], calendar.today() - dt.timedelta(days=400))
        call_command("indicators", "recompute", "--from", start.isoformat(), "--quiet", stdout=self.stdout)
