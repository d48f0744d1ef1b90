"""The Notes module's permission strings (granted to roles in ``register()``)."""

READ, WRITE = "notes.read", "notes.write"
