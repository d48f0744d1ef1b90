"""The sales forms, one file per entity: they collect; the services decide (pt-BR numbers
and dates accepted). Quotes and orders share the lines' form (lines.py)."""
