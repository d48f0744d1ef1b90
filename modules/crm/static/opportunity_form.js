/* The opportunity form: autosave a draft every 30 s while edited. Its items (line totals,
   the running sum, add and remove rows, the catalog picker) are erp/static/line_items.js,
   shared with the quote and order forms (issue 17). */
"use strict";

(() => {
  const form = document.getElementById("opportunity-form");
  if (!form) return;
  const lang = document.documentElement.lang || undefined;

  // Autosave: every N seconds, if something changed since the last save.
  const status = document.getElementById("autosave-status");
  const seconds = Number(form.dataset.autosaveSeconds || 30);
  let dirty = false;
  let inFlight = null; // the autosave under way, if any
  let timer = null;
  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("change", () => { dirty = true; });
  form.addEventListener("submit", (event) => {
    window.clearInterval(timer);
    dirty = false;
    if (inFlight) {
      // Let the running autosave finish first, so the form posts its draft id and the
      // server deletes that draft with the save (no orphan draft is left behind).
      event.preventDefault();
      const submitter = event.submitter;
      inFlight.finally(() => form.requestSubmit(submitter));
    }
  });

  const save = async () => {
    try {
      const response = await fetch(form.dataset.autosaveUrl, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(String(response.status));
      const body = await response.json();
      form.elements.namedItem("draft_id").value = body.draft_id;
      const time = new Date(body.saved_at).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
      status.textContent = form.dataset.savedText.replace("{time}", time);
    } catch (error) {
      dirty = true;
      status.textContent = form.dataset.failedText;
    } finally {
      inFlight = null;
    }
  };
  const autosave = () => {
    if (!dirty || inFlight) return inFlight;
    dirty = false;
    inFlight = save();
    return inFlight;
  };
  timer = window.setInterval(autosave, seconds * 1000);
  form.autosaveNow = autosave; // lets a test (or an impatient user) trigger it
})();
