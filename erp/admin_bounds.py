"""Flask-Admin's query arguments, bounded like the rest of the app's (erp.params).

Flask-Admin reads ``?page=`` as any Python int and ``?id=`` as any text: a page past
2⁶³ or an id past the INTEGER range reached the database and came back as a 500
(SQLite: OverflowError; PostgreSQL: "out of range"). :class:`BoundedAdminArgs`, mixed
into every admin view (``SecureModelView``), turns them into the first page and "no
such record" instead.
"""

from __future__ import annotations

from sqlalchemy import Integer

from .params import MAX_PAGE, parse_int


class BoundedAdminArgs:
    """Mixin for a Flask-Admin ``ModelView``: page, page size and sort column bounded;
    an integer primary key out of range is no record."""

    def _get_list_extra_args(self):
        view_args = super()._get_list_extra_args()
        return view_args.clone(
            page=parse_int(view_args.page, 0, min=0, max=MAX_PAGE),
            page_size=parse_int(view_args.page_size, 0, min=0, max=1000),
            sort=parse_int(view_args.sort, None, min=0, max=1000),
        )

    def get_one(self, id):  # noqa: A002 (Flask-Admin's name)
        keys = self.model.__mapper__.primary_key
        if len(keys) == 1 and isinstance(keys[0].type, Integer) and parse_int(id, min=1) is None:
            return None
        return super().get_one(id)
