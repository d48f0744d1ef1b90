/* Mosaic ERP: small progressive enhancements; every page works without this file. */
"use strict";

// Forms marked data-confirm ask before they post (destructive actions).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// What templates would otherwise do with inline script, which the Content-Security-Policy
// refuses (erp/security.py): behaviour is declared with data-* attributes and wired here.

// <input type="checkbox" data-select-all=".row-check"> ticks every box that matches.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && box.dataset.selectAll) {
    document.querySelectorAll(box.dataset.selectAll).forEach((row) => { row.checked = box.checked; });
  }
});

// <input data-select-on-focus>: its whole text is selected when it gets the focus (to copy it).
document.addEventListener("focusin", (event) => {
  if (event.target instanceof HTMLInputElement && "selectOnFocus" in event.target.dataset) {
    event.target.select();
  }
});

// <button data-print>: prints the page.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});

// data-erp-color="#rrggbb": a background colour chosen at run time (a tag's). Set through
// element.style, which the policy allows; anything but a hex colour is ignored.
(() => {
  const paint = (element) => {
    if (/^#[0-9a-f]{6}$/i.test(element.dataset.erpColor)) {
      element.style.backgroundColor = element.dataset.erpColor;
    }
  };
  const paintAll = (root) => {
    if (root.matches("[data-erp-color]")) paint(root);
    root.querySelectorAll("[data-erp-color]").forEach(paint);
  };
  paintAll(document.documentElement);
  // Fragments loaded later (the account page's tabs) get theirs too.
  new MutationObserver((changes) => {
    changes.forEach((change) => change.addedNodes.forEach((node) => {
      if (node instanceof Element) paintAll(node);
    }));
  }).observe(document.documentElement, { childList: true, subtree: true });
})();

// A .table-responsive whose table is wider than the screen (a phone) scrolls sideways:
// it then takes the keyboard focus (tabindex="0"), so the arrow keys scroll it too; one
// that fits is no tab stop. Tables loaded later (the account page's tabs) are watched too.
(() => {
  if (!("ResizeObserver" in window)) return;
  const update = (box) => {
    if (box.scrollWidth > box.clientWidth + 1) {
      if (!box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
        box.dataset.erpScrolls = "";
      }
    } else if ("erpScrolls" in box.dataset) {
      box.removeAttribute("tabindex");
      delete box.dataset.erpScrolls;
    }
  };
  const sizes = new ResizeObserver((entries) => entries.forEach((entry) => update(entry.target)));
  const watch = (root) => {
    if (root.matches(".table-responsive")) sizes.observe(root);
    root.querySelectorAll(".table-responsive").forEach((box) => sizes.observe(box));
  };
  watch(document.documentElement);
  new MutationObserver((changes) => {
    changes.forEach((change) => change.addedNodes.forEach((node) => {
      if (node instanceof Element) watch(node);
    }));
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
