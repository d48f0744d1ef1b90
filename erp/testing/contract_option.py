"""``pytest --erp-contract``: add the module contract (erp.testing.contract) to the run.

The test kit's plugin (erp.testing.plugin) adds the option and calls :func:`configure`;
the contract's file is then collected besides the tests the command line names, against
the modules the test apps enable (``erp_modules`` in the ini file: yours and what it
depends on).
"""

from __future__ import annotations

from pathlib import Path

OPTION = "--erp-contract"


def add_option(parser) -> None:
    parser.addoption(OPTION, action="store_true", default=False,
                     help="erp: also run the module contract (erp.testing.contract) against "
                          "the enabled modules")


def configure(config) -> None:
    if config.getoption("erp_contract", default=False):
        from . import contract

        path = str(Path(contract.__file__))
        if path not in config.args:
            config.args.append(path)
