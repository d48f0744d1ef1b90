/* Searchable pickers (issue 17): every <select data-picker> becomes a Tom Select
   (erp/static/vendor/tom-select, loaded only on a page that has one). Without JavaScript,
   or if the library fails to load, the plain <select> stays and posts the same values.

   <select multiple data-picker>           tags, watchers: type to filter, pick several
   <select data-picker data-picker-url=…>  one record searched on the server: the URL
                                           answers ?q=&limit= with {"results": [...],
                                           "more": bool}, each result {"id", "label", ...}
                                           (sales' catalog: views/catalog.py pick_products)

   Choosing fires "picker:choose" on the <select> (bubbles), with the chosen record's data
   (its JSON result, or its <option>'s data-* attributes) in event.detail, or null when
   cleared: the line items (line_items.js) fill a line's description and price from it.

   The words come from this <script> element's data-* attributes (base.html), translated.
   Window.ErpPicker.attach(root) wires the pickers inside `root` (rows added later);
   ErpPicker.strip(node) removes them from a copy of a row (to clone it pristine). */
"use strict";

(() => {
  const script = document.currentScript;
  const words = script ? script.dataset : {};
  const vendor = script ? new URL("vendor/tom-select/", script.src).href : "";
  const SELECTOR = "select[data-picker]";
  let library = null; // the promise of window.TomSelect, once asked for

  const load = () => {
    if (window.TomSelect) return Promise.resolve(window.TomSelect);
    if (library) return library;
    library = new Promise((resolve, reject) => {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = `${vendor}tom-select.bootstrap5.min.css`;
      document.head.appendChild(css);
      const js = document.createElement("script");
      js.src = `${vendor}tom-select.complete.min.js`;
      js.onload = () => (window.TomSelect ? resolve(window.TomSelect) : reject(new Error("no TomSelect")));
      js.onerror = reject;
      document.head.appendChild(js);
    });
    return library;
  };

  const escapeHtml = (text) => String(text ?? "").replace(/[&<>"']/g, (ch) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch]));

  // A record of the catalog: code and name, and its price when known.
  const renderRecord = (data, escape) => {
    const price = data.price_text ? ` <span class="text-body-secondary small">${escape(data.price_text)}</span>` : "";
    return `<div>${escape(data.label)}${price}</div>`;
  };

  const chosen = (select, value) => {
    const data = value && select.tomselect ? select.tomselect.options[value] : null;
    select.dispatchEvent(new CustomEvent("picker:choose", { bubbles: true, detail: data || null }));
  };

  const settingsFor = (select) => {
    const multiple = select.multiple;
    const url = select.dataset.pickerUrl;
    const settings = {
      valueField: "id",
      labelField: "label",
      searchField: ["label"],
      allowEmptyOption: false, // a blank choice is the clear button (one record) or none
      maxOptions: null,
      hidePlaceholder: multiple,
      closeAfterSelect: !multiple,
      create: false,
      plugins: multiple ? { remove_button: { title: words.remove || "Remove" } }
        : { clear_button: { title: words.clear || "Clear" } },
      render: {
        no_results: () => `<div class="no-results">${escapeHtml(words.noResults || "No results")}</div>`,
        loading: () => `<div class="spinner-border spinner-border-sm m-2" role="status"><span class="visually-hidden">${escapeHtml(words.loading || "Searching…")}</span></div>`,
      },
      onChange(value) { chosen(select, Array.isArray(value) ? null : value); },
    };
    if (select.dataset.placeholder) settings.placeholder = select.dataset.placeholder;
    if (select.closest("[data-line-items]")) {
      // In a table whose overflow scrolls (phones), a dropdown inside it would be clipped.
      settings.dropdownParent = "body";
    }
    if (url) {
      settings.render.option = renderRecord;
      settings.preload = "focus";
      settings.shouldLoad = () => true;
      settings.load = (query, callback) => {
        const address = new URL(url, window.location.href);
        address.searchParams.set("q", query);
        fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
          .then((body) => callback(body.results || []))
          .catch(() => callback());
      };
    }
    return settings;
  };

  const upgrade = (TomSelect, select) => {
    if (select.tomselect || select.disabled) return;
    const picker = new TomSelect(select, settingsFor(select));
    // What describes the plain select (help, errors) describes the one people now use.
    // Its <label> now names the picker's input; the plain select (still read by assistive
    // technology, off screen) keeps the same name through it.
    const label = picker.control_input.id
      && document.querySelector(`label[for="${CSS.escape(picker.control_input.id)}"]`);
    if (label && label.id && !select.hasAttribute("aria-label")) select.setAttribute("aria-labelledby", label.id);
    const described = select.getAttribute("aria-describedby");
    if (described) picker.control_input.setAttribute("aria-describedby", described);
    if (select.classList.contains("is-invalid")) picker.wrapper.classList.add("is-invalid");
    // The "hold Ctrl to choose several" hint is for the plain select only.
    document.querySelectorAll(`[data-picker-hint="${CSS.escape(select.id)}"]`).forEach((hint) => { hint.hidden = true; });
    select.dataset.pickerReady = "";
  };

  const attach = (root = document) => {
    const selects = [...root.querySelectorAll(SELECTOR)].filter((s) => !s.tomselect);
    if (root instanceof Element && root.matches(SELECTOR) && !root.tomselect) selects.push(root);
    if (!selects.length) return Promise.resolve();
    return load().then((TomSelect) => selects.forEach((select) => upgrade(TomSelect, select)))
      .catch(() => { /* the plain selects stay: they work */ });
  };

  // A copy of a row holding pickers, back to its plain selects (before wiring it anew).
  const strip = (node) => {
    node.querySelectorAll(".ts-wrapper, .ts-dropdown").forEach((el) => el.remove());
    node.querySelectorAll("select.tomselected").forEach((select) => {
      select.classList.remove("tomselected", "ts-hidden-accessible");
      select.removeAttribute("tabindex");
      delete select.dataset.pickerReady;
    });
    return node;
  };

  window.ErpPicker = { attach, strip, ready: null };
  const start = () => { window.ErpPicker.ready = attach(document); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
