import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Tongban with gunicorn (the production web server)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("TONGBAN_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("TONGBAN_WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("TONGBAN_WEB_THREADS", "4")))

    def handle(self, *args, **options):
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "tongban.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ]
        self.stdout.write(f"Serving on http://{options['bind']}/")
        self.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn
