/* Line items of a document form (issue 17): the deal (opportunity) form's items, the quote
   and order forms' lines, and any form that lists lines the same way. Each line's total
   and the sum while typing (the server recomputes both on save), "Add" and "Remove"
   buttons, and a catalog pick (picker.js) that fills the line's description and price.
   Without JavaScript the rows are plain inputs and the server computes the totals.

   <table data-line-items="lines" data-currency="BRL">   the FieldList's name
     <tr data-line> inputs named lines-<i>-description, -quantity, -unit_price and, when
       the form has them, -discount (percent) and -product_id; a catalog picker
       <select data-line-product>; <td data-line-total>; <button data-line-remove hidden>
     <td data-lines-sum>                                  the sum
   <button data-line-add="<table id>" hidden>            adds a row (a blank copy)
   <fieldset data-line-extra="<table id>">               one more line outside the table
     (the service order's hours): inputs [data-line-quantity] and [data-line-price], both
     blank as 0, and its [data-line-total]
   <span data-lines-grand="<table id>">                  the sum with the extra lines

   A new row's index follows the highest one (gaps are fine: the server reads the rows in
   order); the last row left is emptied rather than removed. */
"use strict";

(() => {
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
  // Half up to the cent, as the server rounds (erp.documents.line_total).
  const cents = (value) => Math.sign(value) * Math.round((Math.abs(value) + Number.EPSILON) * 100) / 100;

  const setup = (table) => {
    const prefix = table.dataset.lineItems;
    const lang = document.documentElement.lang || undefined;
    const money = new Intl.NumberFormat(lang, { style: "currency", currency: table.dataset.currency || "BRL" });
    const body = table.tBodies[0];
    const sum = table.querySelector("[data-lines-sum]");
    const rows = () => [...body.querySelectorAll("[data-line]")];
    const field = (row, name) => row.querySelector(`[name$="-${name}"]`);
    const product = (row) => row.querySelector("[data-line-product]");
    const pattern = new RegExp(`^${prefix}-(\\d+|__index__)-`);
    const extras = [...document.querySelectorAll(`[data-line-extra="${CSS.escape(table.id)}"]`)];
    const grand = [...document.querySelectorAll(`[data-lines-grand="${CSS.escape(table.id)}"]`)];

    const recompute = () => {
      let total = 0;
      rows().forEach((row) => {
        const cell = row.querySelector("[data-line-total]");
        const description = field(row, "description");
        const price = field(row, "unit_price");
        const quantity = field(row, "quantity");
        const discount = field(row, "discount");
        const picked = product(row);
        const empty = !description.value.trim() && !price.value.trim() && !(picked && picked.value);
        if (empty) { if (cell) cell.textContent = ""; return; }
        const qty = quantity && quantity.value.trim() ? parseNumber(quantity.value) : 1;
        const unit = parseNumber(price.value) ?? 0;
        const off = discount && discount.value.trim() ? parseNumber(discount.value) : 0;
        if ([qty, unit, off].some(Number.isNaN)) { if (cell) cell.textContent = "?"; return; }
        const line = cents(qty * unit * (1 - off / 100));
        if (cell) cell.textContent = money.format(line);
        total += line;
      });
      if (sum) sum.textContent = money.format(cents(total));
      extras.forEach((extra) => {
        const cell = extra.querySelector("[data-line-total]");
        const inputs = ["[data-line-quantity]", "[data-line-price]"].map((s) => extra.querySelector(s));
        if (inputs.every((input) => !input || !input.value.trim())) { if (cell) cell.textContent = ""; return; }
        const [qty, unit] = inputs.map((input) => (input && input.value.trim() ? parseNumber(input.value) : 0));
        if ([qty, unit].some(Number.isNaN)) { if (cell) cell.textContent = "?"; return; }
        const line = cents(qty * unit);
        if (cell) cell.textContent = money.format(line);
        total += line;
      });
      grand.forEach((cell) => { cell.textContent = money.format(cents(total)); });
    };

    // A pick fills the description and the price, unless the user wrote their own since
    // the last pick (what a pick wrote is remembered on the field).
    const fill = (input, value) => {
      if (!input || value == null) return;
      if (!input.value.trim() || input.value === input.dataset.picked) {
        input.value = value;
        input.dataset.picked = value;
        input.classList.remove("is-invalid");
      }
    };
    const choose = (row, data) => {
      if (!data) { recompute(); return; }
      fill(field(row, "description"), data.name);
      fill(field(row, "unit_price"), data.price_input);
      recompute();
    };
    table.addEventListener("picker:choose", (event) => {
      const row = event.target.closest("[data-line]");
      if (row) choose(row, event.detail);
    });
    table.addEventListener("change", (event) => {
      const select = event.target;
      if (!(select instanceof HTMLSelectElement) || !select.matches("[data-line-product]") || select.tomselect) return;
      const option = select.selectedOptions[0]; // a plain select (no picker): its option's data
      choose(select.closest("[data-line]"), option && option.value ? option.dataset : null);
    });
    table.addEventListener("input", recompute);
    extras.forEach((extra) => extra.addEventListener("input", recompute));

    // The blank row new ones are copied from, taken before any picker is wired into it.
    const blank = window.ErpPicker ? window.ErpPicker.strip(rows()[0].cloneNode(true)) : rows()[0].cloneNode(true);
    blank.querySelectorAll("input").forEach((input) => {
      input.removeAttribute("value");
      input.value = "";
      delete input.dataset.picked;
    });
    blank.querySelectorAll("select").forEach((select) => {
      [...select.options].forEach((option) => {
        option.removeAttribute("selected");
        option.selected = false;
      });
      select.value = "";
    });
    blank.querySelectorAll(".is-invalid").forEach((el) => el.classList.remove("is-invalid"));
    blank.querySelectorAll(".invalid-feedback").forEach((el) => el.remove());
    blank.querySelectorAll("[data-line-total]").forEach((el) => { el.textContent = ""; });

    let next = Math.max(-1, ...rows().map((row) => {
      const named = row.querySelector("[name]");
      const match = named && named.name.match(pattern);
      return match ? Number(match[1]) : -1;
    })) + 1;
    const renumber = (row, index) => {
      row.querySelectorAll("[name], [id], label[for], [aria-describedby]").forEach((el) => {
        ["name", "id", "for"].forEach((attr) => {
          const value = el.getAttribute(attr);
          if (value && pattern.test(value)) el.setAttribute(attr, value.replace(pattern, `${prefix}-${index}-`));
        });
        const described = el.getAttribute("aria-describedby");
        if (described) el.setAttribute("aria-describedby", described.split(/\s+/).map((id) => id.replace(pattern, `${prefix}-${index}-`)).join(" "));
      });
    };

    const add = () => {
      const row = blank.cloneNode(true);
      renumber(row, next);
      next += 1;
      body.appendChild(row);
      row.querySelectorAll("[data-line-remove]").forEach((button) => { button.hidden = false; });
      if (window.ErpPicker) window.ErpPicker.attach(row);
      (field(row, "description") || row.querySelector("input")).focus();
      recompute();
      return row;
    };
    const remove = (row) => {
      const all = rows();
      if (all.length === 1) { // the last row: emptied, not removed
        row.querySelectorAll("input[name]").forEach((input) => {
          input.value = "";
          delete input.dataset.picked;
          input.classList.remove("is-invalid");
        });
        row.querySelectorAll("select[name], select[data-line-product]").forEach((select) => {
          if (select.tomselect) select.tomselect.clear(); else select.value = "";
        });
        field(row, "description").focus();
        recompute();
        return;
      }
      const after = all[all.indexOf(row) + 1] || all[all.indexOf(row) - 1];
      row.remove();
      (field(after, "description") || after.querySelector("input")).focus();
      recompute();
    };

    document.querySelectorAll(`[data-line-add="${CSS.escape(table.id)}"]`).forEach((button) => {
      button.hidden = false;
      button.type = "button"; // without JavaScript it posts the form back with one more row
      button.removeAttribute("name");
      button.addEventListener("click", add);
    });
    body.querySelectorAll("[data-line-remove]").forEach((button) => { button.hidden = false; });
    body.addEventListener("click", (event) => {
      const button = event.target instanceof Element && event.target.closest("[data-line-remove]");
      if (button) remove(button.closest("[data-line]"));
    });
    recompute();
  };

  document.querySelectorAll("table[data-line-items]").forEach(setup);
})();
