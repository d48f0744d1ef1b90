/* CRM account form: input masks, the CNPJ lookup and the web search link.
   Progressive enhancement: the form posts and validates on the server without this. */
"use strict";

(() => {
  const onlyAlnum = (value) => value.toUpperCase().replace(/[^0-9A-Z]/g, "");
  const onlyDigits = (value) => value.replace(/\D/g, "");

  // Applies a pattern where "#" takes the next character; stops when input runs out.
  const applyPattern = (chars, pattern) => {
    let out = "";
    let i = 0;
    for (const symbol of pattern) {
      if (i >= chars.length) break;
      out += symbol === "#" ? chars[i++] : symbol;
    }
    return out;
  };

  const masks = {
    taxid(value) {
      const chars = onlyAlnum(value).slice(0, 14);
      // 11 digits is a CPF; letters, or more characters, make it a CNPJ (alphanumeric since 2026).
      if (chars.length <= 11 && /^\d*$/.test(chars)) return applyPattern(chars, "###.###.###-##");
      return applyPattern(chars, "##.###.###/####-##");
    },
    phone(value) {
      if (value.trim().startsWith("+")) return value; // international: leave as typed
      const digits = onlyDigits(value).slice(0, 11);
      return applyPattern(digits, digits.length > 10 ? "(##) #####-####" : "(##) ####-####");
    },
    cep(value) {
      return applyPattern(onlyDigits(value).slice(0, 8), "#####-###");
    },
  };

  document.querySelectorAll("input[data-mask]").forEach((input) => {
    const mask = masks[input.dataset.mask];
    if (!mask) return;
    input.addEventListener("input", () => {
      const atEnd = input.selectionStart === input.value.length;
      const masked = mask(input.value);
      if (masked !== input.value && atEnd) input.value = masked;
    });
    input.addEventListener("blur", () => { input.value = mask(input.value); });
  });

  const form = document.getElementById("account-form");
  if (!form) return;
  const field = (name) => form.elements.namedItem(name);
  const status = document.getElementById("lookup-status");
  const lookupButton = document.getElementById("cnpj-lookup");
  const webSearch = document.getElementById("web-search");

  const updateWebSearch = () => {
    if (!webSearch || !webSearch.dataset.template) return;
    const term = field("legal_name").value.trim() || field("tax_id").value.trim();
    webSearch.href = webSearch.dataset.template.replace("{query}", encodeURIComponent(term));
  };
  ["legal_name", "tax_id"].forEach((name) => field(name).addEventListener("input", updateWebSearch));
  updateWebSearch();

  const say = (text, kind) => {
    status.textContent = text;
    status.className = `small mb-2 text-${kind}`;
  };

  // Fill what the registry knows; fields the user already typed are kept.
  const PREFILL = {
    legal_name: "legal_name", trade_name: "trade_name", street: "street", number: "number",
    complement: "complement", district: "district", city: "city", state: "state", cep: "cep",
    main_activity: "main_activity", registry_status: "status", opened_on: "opened_on",
    phone: "phone", email: "email",
  };

  if (lookupButton) {
    lookupButton.hidden = false;
    lookupButton.addEventListener("click", async () => {
      const cnpj = onlyAlnum(field("tax_id").value);
      if (cnpj.length !== 14) {
        say(lookupButton.dataset.needCnpj, "danger");
        field("tax_id").focus();
        return;
      }
      lookupButton.disabled = true;
      say(lookupButton.dataset.working, "body-secondary");
      try {
        const response = await fetch(`${form.dataset.lookupUrl}?cnpj=${encodeURIComponent(cnpj)}`,
          { headers: { Accept: "application/json" }, credentials: "same-origin" });
        const body = await response.json();
        if (!response.ok) {
          say(body.error ? body.error.message : response.statusText, "danger");
          return;
        }
        field("person_type").value = "PJ";
        for (const [name, key] of Object.entries(PREFILL)) {
          const input = field(name);
          const value = body.data[key];
          if (input && value && !input.value.trim()) {
            input.value = input.dataset.mask ? masks[input.dataset.mask](value) : value;
          }
        }
        updateWebSearch();
        const when = new Date(body.fetched_at).toLocaleDateString(document.documentElement.lang);
        // A stale answer, or a company whose registration is not active: amber, not green.
        const warnings = [body.warning, body.status_warning].filter(Boolean);
        say(lookupButton.dataset.source.replace("{provider}", body.provider).replace("{date}", when)
            + warnings.map((text) => ` — ${text}`).join(""),
            warnings.length ? "warning-emphasis" : "success");
      } catch (error) {
        say(lookupButton.dataset.failed, "danger");
      } finally {
        lookupButton.disabled = false;
      }
    });
  }
})();
