"""``tongban seed``: build the demo city (deterministic for a seed) and print the accounts to log in with."""

import datetime
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tongban.core.calendar import SHANGHAI
from tongban.demo import reference as ref
from tongban.demo.scenarios import demo_services_ensure
from tongban.demo.selectors import demo_account_list, seed_run_latest
from tongban.demo.services import DEFAULT_BATCH_SIZE, demo_city_seed, demo_staff_ensure
from tongban.identity.models import Person
from tongban.identity.reference import ROLE_DEFINITIONS

ROLE_LABELS = {role.code: role.name_en for role in ROLE_DEFINITIONS}


def count(value):
    return f"{value:,}"


class ProgressBar:
    """A tqdm bar on the terminal, started with the first batch of persons (not during the set-up)."""

    def __init__(self, *, total, enabled):
        self.total, self.enabled, self.bar = total, enabled, None

    def __call__(self, count):
        if self.enabled and self.bar is None:
            self.bar = tqdm(total=self.total, unit=" persons", unit_scale=True, file=sys.stderr)
        if self.bar is not None:
            self.bar.update(count)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class Command(BaseCommand):
    help = "Seed the demo city: districts, streets, departments, staff, persons, households, organisations."

    def add_arguments(self, parser):
        parser.add_argument(
            "--people", type=int, default=ref.DEFAULT_PEOPLE, help="synthetic persons (default 20,000)"
        )
        parser.add_argument(
            "--organisations",
            type=int,
            default=ref.DEFAULT_ORGANISATIONS,
            help="organisations (default 2,000)",
        )
        parser.add_argument(
            "--seed", type=int, default=ref.DEFAULT_SEED, help="random seed (default 20261127)"
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="rows per insert")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing (but list the accounts) when persons exist"
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument(
            "--cases",
            type=int,
            default=0,
            help="also write a synthetic history of N closed and open cases (on a seeded city: only that)",
        )
        parser.add_argument(
            "--until",
            type=datetime.date.fromisoformat,
            default=None,
            help="the history ends on this day (YYYY-MM-DD; default today): same seed and day, same cases",
        )

    def handle(
        self, *args, people, organisations, seed, batch_size, if_empty, quiet, cases, until, **options
    ):
        if people < 0 or organisations < 0 or batch_size < 1 or cases < 0:
            raise CommandError(
                "--people, --organisations and --cases must be 0 or more, --batch-size at least 1."
            )
        existing = Person.objects.count()
        if existing and cases:
            self.seed_history(cases=cases, seed=seed, until=until, batch_size=batch_size, quiet=quiet)
            return
        if existing:
            if not if_empty:
                raise CommandError(
                    f"The database already holds {existing:,} persons. The demo city is seeded into an empty "
                    "database (use --if-empty to skip quietly, or a fresh TONGBAN_VAR_DIR / DATABASE_URL)."
                )
            run = seed_run_latest()
            demo_staff_ensure()
            demo_services_ensure()
            self.stdout.write(f"The demo city is already there ({existing:,} persons): nothing seeded.")
            if run is not None:
                self.write_summary(run)
            self.write_accounts()
            return

        bar = ProgressBar(total=people, enabled=not quiet and sys.stderr.isatty())
        try:
            result = demo_city_seed(
                people=people, organisations=organisations, seed=seed, batch_size=batch_size, progress=bar
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        run = result.run
        persons_seconds = run.counts.get("persons_seconds") or run.seconds
        rate = run.counts["seeded_persons"] / persons_seconds if persons_seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo city seeded with seed {run.seed} in {run.seconds:.1f} s "
                f"(persons written at {rate:,.0f} per second)."
            )
        )
        self.write_summary(run)
        if cases:
            self.seed_history(cases=cases, seed=seed, until=until, batch_size=batch_size, quiet=quiet)
        self.write_accounts()

    def seed_history(self, *, cases, seed, until, batch_size, quiet):
        """``--cases N``: the synthetic case history, with its own progress bar."""
        from tongban.demo.cases_history import cases_history_seed

        end = None
        if until is not None:
            end = datetime.datetime.combine(until, datetime.time(18, 0), tzinfo=SHANGHAI)
        bar = tqdm(total=cases, unit=" cases", unit_scale=True, file=sys.stderr, disable=quiet or None)
        try:
            result = cases_history_seed(
                cases=cases,
                seed=seed,
                until=end,
                batch_size=batch_size,
                progress=bar.update,
                stage=lambda text: bar.set_postfix_str(text, refresh=True),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        rate = result.cases / result.seconds if result.seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Case history: {result.cases:,} cases written in {result.seconds:.1f} s ({rate:,.0f} per second) "
                f"with {result.steps:,} timeline steps, {result.tasks:,} tasks ({result.open_tasks:,} open) "
                f"and {result.audit_entries:,} audit entries."
            )
        )
        if result.cpu_seconds:
            phases = ", ".join(f"{name} {value:,.1f}" for name, value in result.cpu_seconds.items())
            self.stdout.write(
                f"CPU seconds of the writing process: {phases}; rows made by {result.workers} worker "
                f"process(es) besides it."
                if result.workers
                else f"CPU seconds: {phases}."
            )

    def write_summary(self, run):
        c = run.counts
        lines = [
            ("districts / streets", f"{c['districts']} / {c['streets']}"),
            ("departments", count(c["departments"])),
            ("staff / users", f"{count(c['staff'])} / {count(c['users'])}"),
            (
                "persons",
                f"{count(c['persons'])} ({count(c['retired_area_codes'])} with a retired Shanghai area code, "
                f"{count(c['other_province_codes'])} with one of another province)",
            ),
            ("households", count(c["households"])),
            ("organisations", count(c["organisations"])),
        ]
        self.stdout.write(f"Demo city (seed {run.seed}, {run.created_at:%Y-%m-%d %H:%M}):")
        for label, value in lines:
            self.stdout.write(f"  {label:<22}{value}")

    def write_accounts(self):
        accounts = demo_account_list()
        if not accounts:
            return
        self.stdout.write("")
        self.stdout.write(
            self.style.WARNING(
                f"Demo accounts (demo only!) - every one has the password: {ref.DEMO_PASSWORD}"
            )
        )
        self.stdout.write(f"  {'username':<20}{'role':<26}{'name':<8}department / organisation")
        for account in accounts:
            roles = ", ".join(ROLE_LABELS.get(code, code) for code in account["roles"])
            self.stdout.write(
                f"  {account['username']:<20}{roles:<26}{account['name']:<8}{account['department']}"
            )
        self.stdout.write(
            "Staff sign in with a second factor: `TONGBAN_DEMO=1 tongban totp USERNAME` prints the current code."
        )
