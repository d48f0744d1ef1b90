"""``pytest --erp-contract`` (erp.testing.contract_option, added by the test kit's plugin):
the module contract joins a run of any tests, its cases listed from the modules the ini
file enables; without the option it is not collected."""

from __future__ import annotations

import subprocess
import sys

from erp.config import PROJECT_ROOT


def collected(*args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", *args],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_the_option_adds_the_contract_with_a_case_per_contribution():
    listed = collected("--erp-contract", "tests/erp/test_money.py")
    assert "tests/erp/test_money.py::" in listed
    for case in ("test_account_tab_renders_with_its_modules_data_and_its_count_matches"
                 "[notes:notes]",
                 "test_timeline_source_honours_the_cursor_ties_and_the_kind_filter"
                 "[sales:sales.documents]",
                 "test_every_string_of_the_module_is_translated_to_pt_br[service]",
                 "test_module_api_keeps_its_description[crm]",
                 "test_migrations_go_down_to_base_and_up_again"):
        assert f"erp/testing/contract.py::{case}" in listed, case


def test_without_the_option_the_contract_is_not_collected():
    listed = collected("tests/erp/test_money.py")
    assert "erp/testing/contract.py" not in listed
