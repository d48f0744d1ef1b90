"""Start-up: discover, order and register the enabled modules."""

from __future__ import annotations

import logging

from .modules import LoadedModule, ModuleError, discover, enabled_names, names_setting, resolve
from .registry import Registry, RegistryError

log = logging.getLogger(__name__)


def load_modules(app, registry: Registry) -> list[LoadedModule]:
    """Run every enabled module's ``register()`` in load order.

    Any problem stops start-up with a :class:`ModuleError` naming the module.
    """
    cfg = app.config
    # Given as app config, a list; text is comma-separated, as in the environment.
    available = discover(names_setting(cfg["ERP_MODULE_DIRS"]) or [],
                         entry_points=cfg["ERP_DISCOVER_ENTRY_POINTS"])
    modules = resolve(available, enabled_names(cfg, available))
    app.extensions["erp_available_modules"] = available
    app.extensions["erp_modules"] = modules
    for module in modules:
        registry.begin_module(module.name)
        try:
            module.package.register(registry)
        except ModuleError:
            raise
        except RegistryError as exc:
            raise ModuleError(module.name, str(exc)) from exc
        except Exception as exc:
            raise ModuleError(module.name, f"register() failed: {exc!r}") from exc
        finally:
            registry.end_module()
        log.debug("module %s %s registered", module.name, module.manifest.version)
    return modules
