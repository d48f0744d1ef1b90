"""The JSON API's host side: per-user tokens (and, later, auth, errors, the OpenAPI document)."""
