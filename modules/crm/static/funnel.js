/* The funnel's drag and drop (HTML5 drag events). Each move is saved by a POST with the
   CSRF token; if the server refuses, the card goes back and the message says why.
   Without JavaScript, every card has a stage selector that does the same. */
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
      if (zone === from.list) return;
      const toColumn = zone.closest(".funnel-column");
      zone.prepend(card);
      try {
        await post(card.dataset.stageUrl, { stage_id: zone.dataset.stageId });
        shift(fromColumn, card, -1);
        shift(toColumn, card, +1);
        const selector = card.querySelector("select[name='stage_id']");
        if (selector) selector.value = zone.dataset.stageId;
        messageBox.className = "alert d-none";
      } catch (error) {
        putBack(card, from);
        say(error.message, "danger");
      }
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
