// A page that shows a form's errors: move the focus to the error summary (so a screen reader reads it and the
// keyboard starts there) and prefix the title with the error marker ("错误：" / "Error: ") that the page gives.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  var prefix = document.body.getAttribute("data-error-prefix") || "";
  if (prefix && document.title.indexOf(prefix) !== 0) document.title = prefix + document.title;
  if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
  summary.focus();
});
