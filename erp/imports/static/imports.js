/* Import progress: poll the job's JSON and move the bar; reload when it ends.
   Without JavaScript the page refreshes itself (a <noscript> meta refresh). */
"use strict";

(() => {
  const box = document.getElementById("import-job");
  if (!box || box.dataset.running !== "true") return;
  const bar = box.querySelector("#import-progress");
  const counts = box.querySelector("#import-counts");
  const poll = async () => {
    let data;
    try {
      const response = await fetch(box.dataset.progressUrl, {headers: {Accept: "application/json"}});
      if (!response.ok) throw new Error(String(response.status));
      data = await response.json();
    } catch (error) {
      window.setTimeout(poll, 3000);
      return;
    }
    if (data.finished) {
      window.location.reload();
      return;
    }
    if (bar) {
      bar.setAttribute("aria-valuenow", data.percent);
      const inner = bar.querySelector(".progress-bar");
      inner.style.width = `${data.percent}%`;
      inner.textContent = `${data.percent}%`;
    }
    if (counts && data.total_rows !== null) {
      const template = data.phase === "writing" ? counts.dataset.templateWriting : counts.dataset.template;
      counts.textContent = template
        .replace("{written}", data.written_rows)
        .replace("{done}", data.processed_rows)
        .replace("{total}", data.total_rows)
        .replace("{rejected}", data.rejected_rows);
    }
    window.setTimeout(poll, 1000);
  };
  window.setTimeout(poll, 500);
})();
