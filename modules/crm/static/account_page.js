/* The account page: tabs load when first opened, counts arrive after the page is shown,
   the timeline loads older events and filters in place. Without this file every tab is
   a plain link to the page with ?tab=key, and every form is a plain GET. */
"use strict";

(() => {
  const root = document.getElementById("account-tabs");
  if (!root) return;
  const COUNT_TIMEOUT_MS = 5000;

  const fetchText = async (url) => {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    const text = await response.text();
    if (!response.ok) throw Object.assign(new Error(String(response.status)), { html: text });
    return text;
  };

  const showError = (panel, error) => {
    panel.innerHTML = error.html && error.html.includes("alert")
      ? error.html : `<div class="alert alert-warning" role="status">${root.dataset.errorText || "?"}</div>`;
  };

  // --- tabs --------------------------------------------------------------------------
  const links = [...root.querySelectorAll("[data-tab]")];
  const activate = async (link, { push = true } = {}) => {
    const panel = document.getElementById(link.getAttribute("aria-controls"));
    // The open tab's URL may carry its own state (a filter, a search): keep it.
    const alreadyOpen = link.classList.contains("active");
    links.forEach((other) => {
      const active = other === link;
      other.classList.toggle("active", active);
      other.setAttribute("aria-selected", String(active));
      document.getElementById(other.getAttribute("aria-controls")).classList.toggle("show", active);
      document.getElementById(other.getAttribute("aria-controls")).classList.toggle("active", active);
    });
    if (push && !alreadyOpen) {
      // The selected tab is in the URL, so a reload (or a shared link) opens it again.
      history.replaceState(null, "", link.href);
    }
    if (panel.dataset.loaded !== "true") {
      panel.dataset.loaded = "true";
      panel.setAttribute("aria-busy", "true");
      try {
        panel.innerHTML = await fetchText(link.dataset.tabUrl);
      } catch (error) {
        panel.dataset.loaded = "false";
        showError(panel, error);
      } finally {
        panel.removeAttribute("aria-busy");
      }
    }
  };
  links.forEach((link) => link.addEventListener("click", (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey) return; // a new tab/window: let it go
    event.preventDefault();
    activate(link);
  }));

  // --- counts: each on its own, so a slow one delays nothing else --------------------
  links.filter((link) => link.dataset.countUrl).forEach(async (link) => {
    const badge = link.querySelector(".tab-count");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), COUNT_TIMEOUT_MS);
    try {
      const response = await fetch(link.dataset.countUrl, {
        credentials: "same-origin", headers: { Accept: "application/json" }, signal: controller.signal,
      });
      const body = await response.json();
      badge.textContent = response.ok && body.count !== null ? String(body.count) : "?";
    } catch (error) {
      badge.textContent = "?";
    } finally {
      clearTimeout(timer);
    }
  });

  // --- timeline: load older, filter by kind ------------------------------------------
  root.addEventListener("click", async (event) => {
    const older = event.target.closest("#timeline-older");
    if (!older) return;
    event.preventDefault();
    const item = older.closest(".timeline-more");
    older.classList.add("disabled");
    try {
      const html = await fetchText(older.dataset.fragmentUrl);
      item.insertAdjacentHTML("beforebegin", html);
      item.remove();
    } catch (error) {
      older.classList.remove("disabled");
    }
  });

  // Each module's "all of this module" box checks or clears its group's kinds, and shows
  // whether all (checked), some (mixed) or none of them are chosen. Hidden without JS.
  const syncGroup = (group) => {
    const toggle = group.querySelector("[data-kind-group-toggle]");
    if (!toggle) return;
    const boxes = [...group.querySelectorAll('input[name="kind"]')];
    const on = boxes.filter((box) => box.checked).length;
    toggle.checked = boxes.length > 0 && on === boxes.length;
    toggle.indeterminate = on > 0 && on < boxes.length;
  };
  const enhanceGroups = () => {
    root.querySelectorAll(".timeline-kind-group").forEach((group) => {
      const all = group.querySelector(".timeline-kind-all");
      if (all && all.hidden) all.hidden = false;
      syncGroup(group);
    });
  };
  root.addEventListener("change", (event) => {
    const group = event.target.closest(".timeline-kind-group");
    if (!group) return;
    if (event.target.matches("[data-kind-group-toggle]")) {
      group.querySelectorAll('input[name="kind"]').forEach((box) => { box.checked = event.target.checked; });
    }
    syncGroup(group);
  });
  enhanceGroups();
  new MutationObserver(enhanceGroups).observe(root, { childList: true, subtree: true });

  root.addEventListener("submit", async (event) => {
    const form = event.target.closest(".timeline-filter");
    if (!form) return;
    event.preventDefault();
    const params = new URLSearchParams(new FormData(form));
    const panel = form.closest(".tab-pane");
    params.delete("tab");
    try {
      panel.innerHTML = await fetchText(`${form.dataset.fragmentUrl}?${params}`);
      params.set("tab", "timeline");
      history.replaceState(null, "", `${form.action}?${params}`);
    } catch (error) {
      showError(panel, error);
    }
  });
})();
