"""The blueprint every API contribution uses: flask-smorest's, with stricter argument parsing."""

from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict


class ApiParser(FlaskParser):
    """Unknown query arguments are refused (422) like unknown body fields: a misspelt
    filter must not quietly list everything.

    The ``multipart`` location reads form fields and files together: webargs keeps them
    apart, and flask-smorest documents one request body per operation, so an upload
    with options is one correctly documented ``multipart/form-data`` body.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": None, "querystring": None}
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data"}
