"""The CRM's configured lists an API client needs ids from: stages, loss reasons, tags,
categories, service types (read-only here; sales managers edit them on the web, the
administrators the service types)."""

from __future__ import annotations

from sqlalchemy import select

from erp.api import Blueprint
from erp.db import db

from ..models import Category
from ..permissions import READ
from ..services import service_types, settings
from . import schemas as s
from .common import requires

blp = Blueprint("crm-settings", __name__, description=(
    "The funnel's stages, the loss reasons, the tags, the account categories and the "
    "service types."))


@blp.route("/stages", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.StageSchema(many=True))
def list_stages():
    """List the funnel's stages

    In the funnel's order.
    """
    return settings.stages()


@blp.route("/loss-reasons", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.LossReasonSchema(many=True))
def list_loss_reasons():
    """List the reasons an opportunity may be lost for

    Archived reasons are left out (they cannot be chosen any more).
    """
    return settings.loss_reasons()


@blp.route("/service-types", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.ServiceTypeSchema(many=True))
def list_service_types():
    """List the service types

    The company's list in its order, inactive ones too (an opportunity may still have
    one; a new one takes only an active type).
    """
    return service_types.service_types()


@blp.route("/tags", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.TagSchema(many=True))
def list_tags():
    """List the tags"""
    return settings.tags()


@blp.route("/categories", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.CategorySchema(many=True))
def list_categories():
    """List the account categories"""
    return list(db.session.scalars(select(Category).order_by(Category.name)))
