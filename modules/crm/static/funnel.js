/* The funnel's drag and drop (HTML5 drag events). Each move is saved by a POST with the
   CSRF token; if the server refuses, the card goes back and the message says why.
   Every card also has a "Move to…" that opens to a stage selector: the keyboard's and a
   phone's way, saved the same way here, and a plain form post without JavaScript. */
"use strict";

(() => {
  const funnel = document.getElementById("funnel");
  const csrf = document.getElementById("funnel-csrf");
  if (!funnel || !csrf) return;
  const messageBox = document.getElementById("funnel-message");
  const dialog = document.getElementById("lost-dialog");
  const money = new Intl.NumberFormat(document.documentElement.lang || undefined,
    { style: "currency", currency: funnel.dataset.currency || "BRL" });
  let dragged = null;
  let origin = null; // { list, next } to put a refused card back where it was

  const say = (text, kind) => {
    messageBox.textContent = text;
    messageBox.className = `alert alert-${kind}`;
  };

  // A card that moves takes its count and value from one column header to the other.
  const shift = (column, card, sign) => {
    if (!column) return;
    column.dataset.count = String(Number(column.dataset.count) + sign);
    column.dataset.total = String(Number(column.dataset.total) + sign * Number(card.dataset.value));
    column.querySelector(".column-count").textContent = column.dataset.count;
    column.querySelector(".column-value").textContent = money.format(Number(column.dataset.total));
  };

  const post = async (url, fields) => {
    const body = new FormData();
    body.append("csrf_token", csrf.value);
    for (const [key, value] of Object.entries(fields)) body.append(key, value);
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin", headers: { Accept: "application/json" },
    });
    let payload = {};
    try { payload = await response.json(); } catch (error) { payload = {}; }
    if (!response.ok) {
      throw new Error(payload.error?.message || funnel.dataset.errorText);
    }
    return payload;
  };

  const putBack = (card, from) => from.list.insertBefore(card, from.next);

  // Moves `card` to the stage of `list` (a column's .funnel-cards), from where it was
  // (`from`); a refused move puts it back and says why.
  const moveTo = async (card, list, from) => {
    const fromColumn = from.list.closest(".funnel-column");
    const toColumn = list.closest(".funnel-column");
    const selector = card.querySelector("select[name='stage_id']");
    list.prepend(card);
    try {
      await post(card.dataset.stageUrl, { stage_id: list.dataset.stageId });
      shift(fromColumn, card, -1);
      shift(toColumn, card, +1);
      if (selector) selector.value = list.dataset.stageId;
      messageBox.className = "alert d-none";
    } catch (error) {
      putBack(card, from);
      if (selector) selector.value = from.list.dataset.stageId;
      say(error.message, "danger");
    }
  };

  // A card's "Move to…" (the keyboard's and a phone's way): the same move as a drop,
  // without leaving the page; the focus comes back to the card's "Move to…".
  funnel.addEventListener("submit", async (event) => {
    const form = event.target.closest?.(".stage-selector");
    const card = form?.closest(".funnel-card");
    const list = card && funnel.querySelector(
      `.funnel-cards[data-stage-id="${CSS.escape(form.elements.stage_id.value)}"]`);
    if (!list) return; // a stage with no column here: the form posts as without script
    event.preventDefault();
    const details = form.closest("details");
    const from = { list: card.parentElement, next: card.nextElementSibling };
    if (list !== from.list) await moveTo(card, list, from);
    if (details) {
      details.open = false;
      details.querySelector("summary").focus();
    }
  });

  funnel.addEventListener("dragstart", (event) => {
    const card = event.target.closest?.(".funnel-card[draggable='true']");
    if (!card) return;
    dragged = card;
    origin = { list: card.parentElement, next: card.nextElementSibling };
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.id);
  });

  funnel.addEventListener("dragend", () => {
    dragged?.classList.remove("dragging");
    dragged = null; // a later drag of something else (text, a file) must not move this card
    funnel.querySelectorAll(".drop-target").forEach((el) => el.classList.remove("drop-target"));
  });

  const target = (event) => event.target.closest?.(".funnel-cards, .funnel-drop");

  funnel.addEventListener("dragover", (event) => {
    const zone = target(event);
    if (!zone || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    funnel.querySelectorAll(".drop-target").forEach((el) => el !== zone && el.classList.remove("drop-target"));
    zone.classList.add("drop-target");
  });

  funnel.addEventListener("drop", async (event) => {
    const zone = target(event);
    if (!zone || !dragged) return;
    event.preventDefault();
    zone.classList.remove("drop-target");
    // Keep this drag's card and origin: the awaits below outlive the drag itself.
    const card = dragged;
    const from = origin;
    const fromColumn = from.list.closest(".funnel-column");

    if (zone.classList.contains("funnel-cards")) {
      if (zone !== from.list) await moveTo(card, zone, from);
      return;
    }

    // A close zone: won at once; lost only with a reason (seed 004).
    const fields = { status: zone.dataset.status };
    if (zone.dataset.status === "lost") {
      const answer = await askLossReason();
      if (!answer) return;
      Object.assign(fields, answer);
    }
    try {
      const result = await post(card.dataset.statusUrl, fields);
      shift(fromColumn, card, -1);
      card.remove();
      say(result.message || "", "success");
    } catch (error) {
      putBack(card, from);
      say(error.message, "danger");
    }
  });

  // Resolves to { loss_reason_id, loss_note } or null when cancelled.
  const askLossReason = () => new Promise((resolve) => {
    const form = document.getElementById("lost-dialog-form");
    form.reset();
    const done = () => {
      dialog.removeEventListener("close", done);
      if (dialog.returnValue !== "confirm") { resolve(null); return; }
      resolve({ loss_reason_id: form.elements.loss_reason_id.value,
                loss_note: form.elements.loss_note.value });
    };
    dialog.addEventListener("close", done);
    dialog.showModal();
  });
})();
