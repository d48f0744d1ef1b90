"""The module contract, for every enabled module's contributions: the host's suite runs the
same reusable checks any module's package runs (erp.testing.contract, documented in
docs/modules.md, "Contract tests"), on the modules the suite enables (the four of the
project and the Notes example). One case per contribution read from the registry; the
world is every module's demo data plus each module's ContractData account, built once for
this file."""

from erp.testing.contract import *  # noqa: F403 (the contract's fixtures and tests)
