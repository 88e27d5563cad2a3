"""Finding a Chromium for the browser tests (Debian's package, never a downloaded build)."""

import os
import shutil

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium():
    explicit = os.environ.get("TONGBAN_CHROMIUM")
    if explicit:
        return explicit if os.path.exists(explicit) else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def find_axe():
    """axe-core's script for the browser journeys' accessibility checks: ``node_modules/axe-core/axe.min.js``
    (``make test`` installs it with npm from package.json), or ``TONGBAN_AXE``; None when missing."""
    from pathlib import Path

    explicit = os.environ.get("TONGBAN_AXE")
    path = (
        Path(explicit)
        if explicit
        else Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"
    )
    return path if path.is_file() else None


# Runs in every page of a journey once it has loaded: axe-core checks it against WCAG 2.1 A/AA and reports the
# serious and critical violations to the test through an exposed function. The page's own scripts have run by
# then (the focus moves to an error summary on load). An address the journey has already had checked is not
# checked again (a journey comes back to its inbox or case page many times).
AXE_ON_LOAD = """
const tongbanAxeTags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];
async function tongbanAxeCheck(where) {
  const started = performance.now();
  try {
    const result = await axe.run(document, {runOnly: {type: "tag", values: tongbanAxeTags},
                                            resultTypes: ["violations"]});
    const serious = result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" "))}));
    await window.__tongbanAxeReport(where, performance.now() - started, serious);
  } catch (error) {
    await window.__tongbanAxeReport(where, 0, [{id: "axe-error", impact: "critical", help: String(error), nodes: []}]);
  }
}
window.addEventListener("load", async () => {
  if (window.top !== window || typeof axe === "undefined") { return; }
  const where = location.pathname + location.search;
  if (await window.__tongbanAxeStarted(where)) { await tongbanAxeCheck(where); }
});
"""


class AxeAudit:
    """What axe-core found on the pages of one browser journey: pages checked, and serious/critical violations."""

    def __init__(self, script):
        self.script = script
        self.started: list[str] = []
        self.checked: list[str] = []
        self.violations: list[dict] = []
        self.milliseconds = 0.0  # axe-core's own time in the pages, summed

    def attach(self, context):
        context.add_init_script(path=str(self.script))
        context.add_init_script(script=AXE_ON_LOAD)
        context.expose_function("__tongbanAxeStarted", self._start)
        context.expose_function("__tongbanAxeReport", self._report)
        return context

    def _start(self, where) -> bool:
        """Whether to check this page: yes, unless this address was checked (or is being checked) already."""
        if where in self.started:
            return False
        self.started.append(where)
        return True

    def _report(self, where, milliseconds, violations):
        self.checked.append(where)
        self.milliseconds += float(milliseconds or 0)
        for violation in violations:
            self.violations.append({"page": where, **violation})

    @property
    def unchecked(self) -> list[str]:
        """Pages the journey left before axe-core finished with them (counted, not failed: a race with a click)."""
        remaining = list(self.checked)
        left = []
        for where in self.started:
            if where in remaining:
                remaining.remove(where)
            else:
                left.append(where)
        return left

    def summary(self) -> str:
        lines = [
            f"{v['page']}: {v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}"
            for v in self.violations
        ]
        return "\n".join(lines)
