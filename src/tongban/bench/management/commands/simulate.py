"""``tongban simulate``: drive a city's days through the real services on a virtual clock (docs/simulation.md)."""

import datetime as dt
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tongban.bench.management.commands.bench import machine_summary


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--start must be a date (YYYY-MM-DD), not {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Simulate N days of a city (cases, ratings, births and offers, 12345 tickets) through the services; "
        "a summary and, last, one line of JSON. Writes real rows: run it on a scratch database with a demo city."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=1, help="calendar days to simulate (default 1)")
        parser.add_argument(
            "--scale",
            choices=["test", "district", "city", "shanghai"],
            default="district",
            help="a working day's volume: shanghai = 184,000 cases, 25,000 tickets, 270 births; city = a quarter; "
            "district = a sixteenth; test = 40 cases, 16 tickets, 3 births with a mix dense in rare paths "
            "(default district)",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed: same seed, start and city, same run"
        )
        parser.add_argument("--start", type=_date, help="first simulated day (default: the next working day)")
        parser.add_argument("--cases", type=int, help="cases a working day (overrides the scale)")
        parser.add_argument("--tickets", type=int, help="hotline tickets a working day (overrides the scale)")
        parser.add_argument("--births", type=int, help="births a day (overrides the scale)")
        parser.add_argument(
            "--applicants",
            type=int,
            help="persons who apply (accounts made for them; default: one per 40 applications of a working day, "
            "at least 300)",
        )
        parser.add_argument(
            "--mothers",
            type=int,
            help="women whose births are registered (default: four per birth a day, at least 80)",
        )
        parser.add_argument(
            "--processes",
            type=int,
            help="processes that drive the city at once, each its share of the applicants and districts "
            "(default: the machine's cores; 1 inside a transaction)",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(
        self,
        *args,
        days,
        scale,
        seed,
        start,
        cases,
        tickets,
        births,
        applicants,
        mothers,
        processes,
        quiet,
        **options,
    ):
        from django.db import connection

        from tongban.bench.simulate import (
            TEST_MIX,
            Simulation,
            day_volume,
            default_processes,
            default_start,
        )
        from tongban.identity.models import Person

        if days < 1:
            raise CommandError("--days must be at least 1")
        if (applicants is not None and applicants < 1) or (mothers is not None and mothers < 1):
            raise CommandError("--applicants and --mothers must be at least 1")
        if processes is not None and processes < 1:
            raise CommandError("--processes must be at least 1")
        if processes is None:
            # Forked processes see only committed rows: inside a transaction (a test's) the run stays in this one.
            processes = 1 if connection.in_atomic_block else default_processes()
        elif processes > 1 and connection.in_atomic_block:
            raise CommandError(
                "--processes above 1 needs the city committed: the other processes cannot see this transaction"
            )
        try:
            volume = day_volume(scale, cases=cases, tickets=tickets, births=births)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not Person.objects.exists():
            raise CommandError(
                "no city to simulate: seed a demo city on a scratch database first, e.g. "
                "TONGBAN_VAR_DIR=/tmp/tb-sim tongban migrate && TONGBAN_VAR_DIR=/tmp/tb-sim tongban seed --people 5000"
            )
        start = start or default_start()
        total = days * sum(volume.values())  # an upper bound (rest days are lighter); the bar counts arrivals
        bar = tqdm(total=total, unit=" arrivals", unit_scale=True, file=sys.stderr, disable=quiet or None)
        simulation = Simulation(
            days=days,
            volume=volume,
            seed=seed,
            start=start,
            applicants=applicants,
            mothers=mothers,
            progress=bar.update,
            mix=TEST_MIX if scale == "test" else None,
            processes=processes,
        )
        try:
            figures = simulation.run()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(summary(figures, scale=scale))
        result = {
            "command": "simulate",
            "scale": scale,
            **figures,
            "database": connection.vendor,
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            **machine_summary(),
        }
        self.stdout.flush()
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


def summary(figures: dict, *, scale: str) -> str:
    """The run in a few lines for a person."""
    a, i = figures["actions"], figures["indicators"]
    ratings = ", ".join(f"{level}★ {count:,}" for level, count in i["ratings"].items())
    on_time = f"{i['on_time_rate']:.1%}" if i["on_time_rate"] is not None else "–"
    lines = [
        f"Simulated {figures['simulated_days']} day(s) from {figures['start']} at {scale} scale "
        f"(a working day: {figures['per_working_day']['cases']:,} cases, {figures['per_working_day']['tickets']:,} "
        f"tickets, {figures['per_working_day']['births']:,} births) on {figures['database']}, seed {figures['seed']}.",
        f"Cases: {figures['cases']:,} submitted ({a.get('cases_window', 0):,} at windows, "
        f"{a.get('cases_app', 0):,} in the app), "
        f"{i['cases_completed']:,} completed ({on_time} on time), {i['cases_rejected']:,} refused, "
        f"{i['cases_withdrawn']:,} withdrawn, {i['acceptance_refused']:,} not accepted, "
        f"{i['supplements_requested']:,} supplements asked.",
        f"Supervision: {i['warnings_yellow']:,} yellow warnings, {i['warnings_red']:,} red cards; "
        f"ratings {ratings}; {i['rectifications_opened']:,} rectifications opened, "
        f"{i['rectifications_closed']:,} closed.",
        f"Births: {figures['births']:,}; offers {i['offers_made']:,} made, {i['offers_accepted']:,} accepted, "
        f"{i['offers_declined']:,} declined.",
        f"12345: {figures['tickets']:,} tickets, {a.get('tickets_answered_at_first_contact', 0):,} answered at first "
        f"contact, {i['tickets_duplicates_merged']:,} duplicates merged, {i['tickets_supervised']:,} supervised, "
        f"{i['tickets_reopened']:,} reopened, {i['spike_alerts']:,} spike alerts (the planned one "
        f"{'raised' if figures['spike_planned_raised'] else 'not raised'}; against a history of "
        f"{figures['hotline_history_per_day']:,} tickets a day).",
        f"Speed: {figures['wall_seconds']:,.1f} s wall, {figures['cpu_seconds']:,.1f} s CPU, "
        f"{figures['cases_per_s']:,.2f} cases/s, {figures['transitions']:,} transitions = "
        f"{figures['transitions_per_s']:,.1f}/s ({figures['cpu_ms_per_transition']} ms CPU each); "
        f"peak RSS {figures['peak_rss_mb']} MB; load {figures['load_before'][0]} → {figures['load_after'][0]}; "
        f"{figures['processes']} process(es), a cast of {figures['cast']['applicants']:,} applicants, "
        f"{figures['cast']['mothers']:,} mothers and {figures['cast'].get('enterprises', 0):,} enterprises.",
    ]
    if "interrupted_at" in figures:
        lines.append(
            f"Interrupted at {figures['interrupted_at']} (virtual time): the figures are those of the part simulated."
        )
    if figures["services_dropped"]:
        lines.append(
            "Left out of the mix (their sample applications were refused): "
            + ", ".join(figures["services_dropped"])
        )
    if figures["refusals"]:
        lines.append(
            "Refused service calls: " + ", ".join(f"{k} ×{v}" for k, v in figures["refusals"].items())
        )
    return "\n".join(lines) + "\n"
