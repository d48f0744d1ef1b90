"""The modules shipped with Mosaic ERP. Each sub-package is a module (see erp.modules)."""
