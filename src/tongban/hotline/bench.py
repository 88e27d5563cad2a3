"""``tongban bench hotline``: routing throughput (tickets classified per second) and held-out accuracy.

Run ``TONGBAN_VAR_DIR=/tmp/tb-bench tongban bench hotline [--tickets 2000] [--rounds 5]``. It uses the model
in use (training v1 from the corpus first if there is none), classifies a batch of held-out texts in one
process, and reports the best of ``--rounds`` rounds. The API intake figure comes with the tickets.
"""

import time

from tongban.core.bench import benchmark

from .corpus import CONFUSABLE_PAIRS, corpus_load
from .routing import evaluate, model_current, predict


@benchmark(
    "hotline",
    help="hotline routing: tickets classified per second and accuracy on the held-out split",
    arguments=[
        (("--tickets",), {"type": int, "default": 2000, "help": "batch size (default 2,000 held-out texts)"}),
        (("--rounds",), {"type": int, "default": 5, "help": "rounds; the best is reported (default 5)"}),
    ],
)
def bench_hotline(*, stdout, options):
    started = time.perf_counter()
    model = model_current()
    load_s = time.perf_counter() - started
    heldout = corpus_load(split="test")
    texts = [row["text"] for row in heldout]
    texts = (texts * (options["tickets"] // max(len(texts), 1) + 1))[: options["tickets"]]
    predict(model, texts[:10])  # warm jieba's dictionary
    rates = []
    for _ in range(max(options["rounds"], 1)):
        started = time.perf_counter()
        predict(model, texts)
        rates.append(len(texts) / (time.perf_counter() - started))
    report = evaluate(model, heldout)
    pairs = {
        group: evaluate(model, [row for row in heldout if row["topic"] in topics])["accuracy"]
        for group, topics in CONFUSABLE_PAIRS.items()
    }
    stdout.write(
        f"model v{model.version}: {max(rates):,.0f} tickets/s (best of {len(rates)}, batch {len(texts)}); "
        f"held-out accuracy {report['accuracy']:.4f} on {report['total']} tickets"
    )
    for group, accuracy in pairs.items():
        stdout.write(f"  confusable {group}: {accuracy:.4f}")
    return {
        "model_version": model.version,
        "classify_per_s": round(max(rates), 1),
        "classify_per_s_median": round(sorted(rates)[len(rates) // 2], 1),
        "batch": len(texts),
        "model_load_s": round(load_s, 3),
        "heldout_accuracy": report["accuracy"],
        "heldout_size": report["total"],
        "confusable_accuracy": pairs,
    }
