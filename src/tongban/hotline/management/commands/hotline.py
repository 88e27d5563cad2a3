"""``tongban hotline classify [FILE]`` and ``tongban hotline train``: the routing classifier (派单)."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tongban.hotline.routing import MAX_TEXT_CHARS, model_current, model_retrain, predict

BATCH = 500
PROGRESS_ABOVE = 1000


def _parse(number, line):
    """``(id, text, None)`` for a good line, ``(id, None, reason)`` for a bad one."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        return None, None, f"line {number}: not valid JSON ({exc.msg})"
    if not isinstance(data, dict):
        return None, None, f"line {number}: not a JSON object"
    ticket_id, text = data.get("id"), data.get("text")
    if not isinstance(text, str) or not text.strip():
        return ticket_id, None, f"line {number}: no text"
    return ticket_id, text, None


class Command(BaseCommand):
    help = "The hotline's routing classifier: classify JSON lines of tickets, or retrain the model."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(
            dest="action",
            required=True,
            metavar="{classify,train,evaluate,open311-key,faq-export,faq-import}",
        )
        classify = actions.add_parser(
            "classify",
            help='Read JSON lines {"id", "text"} from FILE (or standard input) and write one JSON line per '
            'ticket: {"id", "department", "confidence", "top3"}, or {"id", "error"} for a bad line.',
        )
        classify.add_argument("file", nargs="?", help="JSON lines file; standard input when absent or '-'.")
        actions.add_parser(
            "train",
            help="Retrain on the corpus plus dispatchers' corrections; save and print the new version.",
        )
        evaluate = actions.add_parser(
            "evaluate",
            help="Measure the model in use on a labelled set: top-1, top-3, topics, per department, the confusion "
            "matrix and auto-dispatch at the threshold; the last line is JSON.",
        )
        evaluate.add_argument(
            "--set",
            dest="set_name",
            choices=("evaluation", "handwritten", "heldout"),
            default="evaluation",
            help="evaluation: the 1,261 hand-written calls (default); handwritten: the first 34; heldout: the "
            "template corpus's test split.",
        )
        evaluate.add_argument(
            "--threshold", type=float, default=None, help="auto-dispatch threshold (default: the one in use)"
        )
        key = actions.add_parser("open311-key", help="Make an Open311 client and print its api_key once.")
        key.add_argument("name", help="The client's name.")
        export = actions.add_parser(
            "faq-export", help="Write the knowledge base (FAQ entries) to an Excel file."
        )
        export.add_argument("file", help="The .xlsx file to write.")
        load = actions.add_parser(
            "faq-import",
            help="Read FAQ entries from an Excel file (sheet 'faq'): new questions are added, known ones changed; "
            "a bad row is reported with its number and skipped.",
        )
        load.add_argument("file", help="The .xlsx file to read.")
        load.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")

    def handle(self, *args, **options):
        if options["action"] in ("faq-export", "faq-import"):
            return self._faq(options)
        if options["action"] == "open311-key":
            from tongban.core.audit import SYSTEM
            from tongban.hotline.open311 import open311_client_create

            client, key = open311_client_create(actor=SYSTEM, name=options["name"])
            self.stdout.write(f"{client.name}: {key}")
            return
        if options["action"] == "train":
            model = model_retrain()
            manifest = model.manifest
            state = (
                "active"
                if manifest.get("active", True)
                else (
                    f"kept inactive: v{manifest['compared_with']['version']} routes the check better "
                    f"({manifest['compared_with']['check_accuracy']:.4f})"
                )
            )
            self.stdout.write(
                f"model v{manifest['version']} ({state}): held-out accuracy {manifest['heldout_accuracy']:.4f} "
                f"on {manifest['heldout_size']} tickets; check accuracy {manifest.get('check_accuracy', 0):.4f} "
                f"on {manifest.get('validation_size', 0)} hand-written calls; auto-dispatch threshold "
                f"{manifest.get('auto_dispatch_threshold', 0):.3f}{self._threshold_basis(manifest)}; trained on "
                f"{manifest['corpus_size']} rows and {manifest['corrections']} corrections"
            )
            return
        if options["action"] == "evaluate":
            return self._evaluate(options)
        name = options.get("file")
        if name in (None, "-"):
            self._classify(sys.stdin)
        else:
            try:
                with open(name, encoding="utf-8", errors="replace") as handle:
                    self._classify(handle)
            except OSError as exc:
                raise CommandError(f"cannot read {name}: {exc}") from exc

    def _classify(self, handle):
        lines = handle.readlines()
        model = model_current()
        progress = tqdm(
            total=len(lines), unit="ticket", file=sys.stderr, disable=len(lines) <= PROGRESS_ABOVE
        )
        for start in range(0, len(lines), BATCH):
            parsed = [_parse(start + i + 1, line) for i, line in enumerate(lines[start : start + BATCH])]
            good = [(ticket_id, text) for ticket_id, text, error in parsed if error is None]
            predictions = iter(predict(model, [text for _id, text in good]))
            out = []
            for (ticket_id, text, error), line in zip(parsed, lines[start : start + BATCH], strict=True):
                if error is not None:
                    if not line.strip():
                        continue  # blank lines carry no ticket
                    out.append({"id": ticket_id, "error": error})
                    continue
                prediction = next(predictions)
                result = {
                    "id": ticket_id,
                    "department": prediction.department,
                    "confidence": prediction.confidence,
                    "top3": [[code, p] for code, p in prediction.top3],
                    "topic": prediction.topic,
                }
                if len(text) > MAX_TEXT_CHARS:
                    result["truncated"] = True
                out.append(result)
            self.stdout.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in out), ending="")
            progress.update(len(parsed))
        progress.close()

    @staticmethod
    def _threshold_basis(manifest):
        """What the threshold rests on: the precision, its Wilson lower bound and the share dispatched on the
        pooled hand-written calls, or that there were too few calls for the margin (models saved before the fifth
        pass of issue 12 say nothing: "")."""
        if "auto_dispatch_margin" not in manifest:
            return ""
        precision = manifest.get("auto_dispatch_expected_precision")
        size = manifest.get("calibration_size", 0)
        if not manifest["auto_dispatch_margin"]:
            return f" (no margin: too few calls, {size}, for a Wilson lower bound; precision {precision} on them)"
        return (
            f" (precision {precision:.4f}, Wilson lower bound "
            f"{manifest['auto_dispatch_expected_precision_lower']:.4f}, "
            f"{manifest['auto_dispatch_expected_coverage']:.1%} dispatched of {size} calls)"
        )

    def _evaluate(self, options):
        from tongban.hotline.evaluation import measure, report_lines, rows_for
        from tongban.hotline.services import auto_dispatch_threshold

        model = model_current()
        threshold = (
            options["threshold"] if options["threshold"] is not None else auto_dispatch_threshold(model)
        )
        report = measure(model, rows_for(options["set_name"]), threshold=threshold)
        self.stdout.write(f"model v{model.version} on the {options['set_name']} set:")
        for line in report_lines(report):
            self.stdout.write(line)
        self.stdout.write(json.dumps({"set": options["set_name"], "model_version": model.version, **report}))

    def _faq(self, options):
        from tongban.core.audit import SYSTEM
        from tongban.hotline.faq_excel import faq_export, faq_import

        if options["action"] == "faq-export":
            count = faq_export(options["file"])
            self.stdout.write(f"{count} FAQ entries written to {options['file']}")
            return
        with tqdm(desc="FAQ rows", unit="row", disable=None, file=sys.stderr) as bar:
            try:
                report = faq_import(
                    options["file"], actor=SYSTEM, dry_run=options["dry_run"], progress=bar.update
                )
            except (ValueError, OSError) as exc:
                raise CommandError(str(exc)) from None
        for line in report.errors:
            self.stderr.write(line)
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{report.created} entries {verb} added, {report.changed} changed, {len(report.errors)} errors"
        )
        if not report.ok:
            raise CommandError("some rows were not imported (see above)", returncode=1)
