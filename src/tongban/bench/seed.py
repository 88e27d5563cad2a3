"""``tongban bench seed``: persons (with their households) written per second.

The benchmark seeds into the configured database inside one transaction that it rolls back at the end,
so it leaves nothing behind. It needs a database without persons (the numbers it generates are unique
only within one seeding): on a seeded demo, point it at a scratch database, e.g.
``TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate && TONGBAN_VAR_DIR=/tmp/tb-bench tongban bench seed``.
"""

import time

from django.core.management.base import CommandError
from django.db import connection, transaction

from tongban.core.bench import benchmark
from tongban.demo.reference import DEFAULT_SEED
from tongban.demo.services import DEFAULT_BATCH_SIZE, bulk_load_cache, persons_seed, streets_ensure
from tongban.demo.synthetic import CityGenerator
from tongban.identity.models import Person
from tongban.identity.services import departments_ensure


class BenchAborted(Exception):
    pass


@benchmark(
    "seed",
    help="demo city persons (with households) written per second, rolled back afterwards",
    arguments=[
        (("--people",), {"type": int, "default": 100_000, "help": "persons to write (default 100,000)"}),
        (("--batch-size",), {"type": int, "default": DEFAULT_BATCH_SIZE}),
        (("--seed",), {"type": int, "default": DEFAULT_SEED}),
    ],
)
def bench_seed(*, stdout, options):
    people, batch_size, seed = options["people"], options["batch_size"], options["seed"]
    if Person.objects.exists():
        raise CommandError(
            "tongban bench seed needs a database without persons (it seeds and rolls back); "
            "use a scratch one, e.g. TONGBAN_VAR_DIR=/tmp/tb-bench tongban migrate, then run it there."
        )
    # Generation alone, to tell Python time from database time.
    generator = CityGenerator(seed=seed)
    started = time.perf_counter()
    generated = sum(len(h.members) for h in generator.households(min(people, 50_000)))
    generate_rate = generated / (time.perf_counter() - started)

    figures = {}
    try:
        with transaction.atomic():
            departments_ensure()
            streets = streets_ensure()
            generator = CityGenerator(seed=seed)
            started = time.perf_counter()
            with bulk_load_cache():
                written = persons_seed(
                    generator=generator, people=people, streets=streets, batch_size=batch_size
                )
            if connection.vendor == "postgresql":
                # The foreign keys are checked at commit (deferred); run those checks now, inside the timing,
                # since the rollback below would skip them.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            seconds = time.perf_counter() - started
            figures = {
                "persons": written["persons"],
                "households": written["households"],
                "seconds": round(seconds, 3),
                "persons_per_s": round(written["persons"] / seconds, 1),
                "generate_only_persons_per_s": round(generate_rate, 1),
                "batch_size": batch_size,
            }
            raise BenchAborted
    except BenchAborted:
        pass
    stdout.write(
        f"seed: {figures['persons']:,} persons in {figures['households']:,} households written in "
        f"{figures['seconds']:.2f} s = {figures['persons_per_s']:,.0f} persons/s "
        f"(generation alone: {figures['generate_only_persons_per_s']:,.0f} persons/s); rolled back.\n"
    )
    return figures
