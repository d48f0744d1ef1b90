/* Mosaic ERP: small progressive enhancements; every page works without this file. */
"use strict";

// Forms marked data-confirm ask before they post (destructive actions).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
