/* The admin (Flask-Admin) under the Content-Security-Policy (erp/security.py): what its
   inline onclick handlers did, which erp/admin_csp.py takes out of its templates. */
"use strict";

// Capture phase: before Flask-Admin's and Bootstrap's own handlers, which still run.
window.addEventListener("click", (event) => {
  if (!(event.target instanceof Element)) return;
  // Flask-Admin's menus, tabs and pager use href="javascript:void(0)": following one is an
  // inline script the policy refuses (and reports). Their handlers do the work instead.
  if (event.target.closest('a[href^="javascript:"]')) event.preventDefault();
  // "With selected" → an action: Flask-Admin's actions.js asks and posts the form.
  const action = event.target.closest("[data-erp-admin-action]");
  if (action && window.modelActions) {
    event.preventDefault();
    window.modelActions.execute(action.dataset.erpAdminAction);
  }
}, true);
