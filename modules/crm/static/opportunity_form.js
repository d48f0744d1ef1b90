/* The opportunity form: add item rows, show each line's total and the running sum
   (the server recomputes it on save), and autosave a draft every 30 s while edited. */
"use strict";

(() => {
  const form = document.getElementById("opportunity-form");
  if (!form) return;
  const lang = document.documentElement.lang || undefined;
  const money = new Intl.NumberFormat(lang, { style: "currency", currency: form.dataset.currency || "BRL" });

  // "1.234,56" (pt-BR), "1234.56" and "1,5" all read as people mean them.
  const parseNumber = (text) => {
    let value = String(text || "").replace(/[R$\s\u00a0]/g, "");
    if (!value) return null;
    if (value.includes(",") && value.includes(".")) {
      value = value.lastIndexOf(",") > value.lastIndexOf(".")
        ? value.replace(/\./g, "").replace(",", ".") : value.replace(/,/g, "");
    } else if (value.includes(",")) {
      value = value.replace(",", ".");
    } else if (/^-?\d{1,3}\.\d{3}$/.test(value)) {
      value = value.replace(".", "");
    }
    const number = Number(value);
    return Number.isFinite(number) ? number : NaN;
  };

  const table = document.getElementById("items-table");
  const sum = document.getElementById("items-sum");
  const recompute = () => {
    let total = 0;
    table.querySelectorAll("tbody .item-row").forEach((row) => {
      const [description, quantity, price] = row.querySelectorAll("input");
      const qty = quantity.value.trim() ? parseNumber(quantity.value) : 1;
      const unit = parseNumber(price.value) ?? 0;
      const cell = row.querySelector(".item-total");
      if (!description.value.trim() && !price.value.trim()) { cell.textContent = ""; return; }
      if (Number.isNaN(qty) || Number.isNaN(unit)) { cell.textContent = "?"; return; }
      const line = Math.round(qty * unit * 100) / 100;
      cell.textContent = money.format(line);
      total += line;
    });
    sum.textContent = money.format(total);
  };
  table.addEventListener("input", recompute);
  recompute();

  const addButton = document.getElementById("add-item");
  addButton.hidden = false;
  addButton.addEventListener("click", () => {
    const rows = table.querySelectorAll("tbody .item-row");
    const clone = rows[rows.length - 1].cloneNode(true);
    const index = rows.length;
    clone.querySelectorAll("input").forEach((input) => {
      input.name = input.name.replace(/items-\d+-/, `items-${index}-`);
      input.id = input.id.replace(/items-\d+-/, `items-${index}-`);
      input.value = "";
      input.classList.remove("is-invalid");
    });
    clone.querySelectorAll(".invalid-feedback").forEach((el) => el.remove());
    table.querySelector("tbody").appendChild(clone);
    clone.querySelector("input").focus();
    recompute();
  });

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
