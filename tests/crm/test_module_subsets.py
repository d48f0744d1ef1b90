"""Sales, finance and service: the account page stays whole with any subset installed."""

from __future__ import annotations

from itertools import combinations

import pytest

from tests.conftest import login_as

SIBLINGS = ("sales", "finance", "service")
SUBSETS = [combo for size in range(len(SIBLINGS) + 1) for combo in combinations(SIBLINGS, size)]


@pytest.mark.parametrize("enabled", SUBSETS, ids=lambda combo: "+".join(combo) or "crm-only")
def test_account_page_with_any_subset_of_the_sibling_modules(make_app, users, make_account,
                                                            enabled):
    account_id = make_account(legal_name="Conta Inteira")
    app = make_app(ERP_MODULES=["crm", *enabled])
    registry = app.extensions["erp"]
    client = app.test_client()
    login_as(client, users["admin"])
    page = client.get(f"/crm/accounts/{account_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for tab in registry.items("account tab", None, check_permission=False):
        assert f'data-tab="{tab.key}"' in html
        assert client.get(f"/crm/accounts/{account_id}/tabs/{tab.key}").status_code == 200
    for module in SIBLINGS:
        owned = [key for kind in ("account tab", "account stat", "create action")
                 for key in registry.kinds.get(kind, {})
                 if registry.module_of(kind, key) == module]
        assert (module in enabled) or not owned, (module, owned)
        if module not in enabled:
            assert client.get(f"/{module}/").status_code == 404
    assert client.get(f"/crm/accounts/{account_id}/tabs/timeline").status_code == 200
