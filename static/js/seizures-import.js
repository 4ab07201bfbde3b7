/* The seizure import job page: while the import waits or runs, poll its JSON status and show
 * the progress; once it has finished, reload to show the result. No inline script. */
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box) return;
  var status = box.dataset.status;
  if (status !== "pending" && status !== "running") return;
  var bar = document.getElementById("import-progress");
  var text = box.querySelector("[data-import-progress]");
  var badge = document.querySelector("[data-import-status]");
  var numberFormat = new Intl.NumberFormat(document.documentElement.lang || "en");
  var delay = 1000;

  function show(job) {
    if (job.total_rows) {
      bar.max = job.total_rows;
      bar.value = job.processed_rows;
    }
    text.textContent = box.dataset.label
      .replace("%(processed)s", numberFormat.format(job.processed_rows))
      .replace("%(total)s", numberFormat.format(job.total_rows));
    if (badge) badge.textContent = job.status_label;
  }

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (job.finished) {
          window.location.reload();
          return;
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
