"""Sales, finance and service: the account page stays whole with any subset installed."""

from __future__ import annotations

from itertools import combinations

import pytest

from erp.testing.contract_world import page_markers
from modules.crm.kinds import AccountTab
from tests.conftest import login_as

SIBLINGS = ("sales", "finance", "service")
SUBSETS = [combo for size in range(len(SIBLINGS) + 1) for combo in combinations(SIBLINGS, size)]


@pytest.mark.parametrize("enabled", SUBSETS, ids=lambda combo: "+".join(combo) or "crm-only")
def test_account_page_with_any_subset_of_the_sibling_modules(app, make_app, users,
                                                            make_account, enabled):
    account_id = make_account(legal_name="Conta Inteira")
    subset_app = make_app(ERP_MODULES=["crm", *enabled])
    registry = subset_app.extensions["erp"]
    client = subset_app.test_client()
    login_as(client, users["admin"])
    page = client.get(f"/crm/accounts/{account_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for tab in registry.items(AccountTab, None, check_permission=False):
        assert f'data-tab="{tab.key}"' in html
        assert client.get(f"/crm/accounts/{account_id}/tabs/{tab.key}").status_code == 200
    timeline = client.get(f"/crm/accounts/{account_id}/tabs/timeline").get_data(as_text=True)
    for module in SIBLINGS:
        markers = page_markers(app, module)  # from the app with every module
        assert markers, f"{module} contributes nothing to the account page"
        for marker in markers:
            assert (marker in html + timeline) == (module in enabled), (module, marker)
        if module not in enabled:
            assert client.get(f"/{module}/").status_code == 404
