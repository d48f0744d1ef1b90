"""Pipeline settings kept by the sales manager: stages, loss reasons, tags."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, update

from erp.db import db
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.validation import clean_field, integer, text

from ..models import LossReason, Opportunity, Stage, Tag, account_tags, opportunity_tags
from . import service_types

_l = module_i18n(__name__).lazy_gettext
lazy_ngettext = module_i18n(__name__).lazy_ngettext

DEFAULT_MAX_STAGES = 5  # seed 001: "Cinco (5) é o número máximo de estágios"
# Seed 001's stages and seed 004's reasons; the module's first migration inserts them too.
DEFAULT_STAGES = ("Prospecção", "Contato realizado", "Proposta apresentada", "Negociação",
                  "Encerrado")
DEFAULT_LOSS_REASONS = ("Preço muito alto", "Mau atendimento", "Prazo de entrega longo",
                        "Condição de pagamento não facilitada")


def ensure_defaults() -> None:
    """The default stages, loss reasons and service types, for a database that has none."""
    if not db.session.scalar(select(func.count(Stage.id))):
        db.session.add_all(Stage(name=name, sequence=10 * (i + 1))
                           for i, name in enumerate(DEFAULT_STAGES))
    if not db.session.scalar(select(func.count(LossReason.id))):
        db.session.add_all(LossReason(name=name) for name in DEFAULT_LOSS_REASONS)
    service_types.ensure_defaults()
    db.session.commit()


def max_stages() -> int:
    return int(current_app.config.get("CRM_MAX_STAGES", DEFAULT_MAX_STAGES))


def _name(value, field: str = "name", limit: int = 60) -> str:
    return clean_field(field, text, value, required=True, max_length=limit,
                       message=_l("The name is required."))


def _unique(model, name: str, exclude_id: int | None = None) -> None:
    statement = select(model.id).where(func.lower(model.name) == name.lower())
    if exclude_id is not None:
        statement = statement.where(model.id != exclude_id)
    if db.session.scalar(statement) is not None:
        raise InvalidInput({"name": [_l("This name is already in use.")]})


# --- stages --------------------------------------------------------------------


def stages() -> list[Stage]:
    return list(db.session.scalars(select(Stage).order_by(Stage.sequence, Stage.id)))


def save_stage(data: dict, stage: Stage | None = None) -> Stage:
    name = _name(data.get("name"))
    _unique(Stage, name, stage.id if stage else None)
    description = clean_field("description", text, data.get("description"),
                              max_length=255) or None
    sequence = clean_field("sequence", integer, data.get("sequence"),
                           message=_l("Use a whole number.")) or None
    if stage is None:
        count = db.session.scalar(select(func.count(Stage.id)))
        if count >= max_stages():
            raise InvalidInput({"__all__": [_l(
                "The funnel has the maximum of %(n)d stages. Rename or delete one first.",
                n=max_stages())]})
        last = db.session.scalar(select(func.max(Stage.sequence))) or 0
        stage = Stage(sequence=sequence or last + 10)
        db.session.add(stage)
    elif sequence is not None:
        stage.sequence = sequence
    stage.name, stage.description = name, description
    db.session.commit()
    return stage


def delete_stage(stage: Stage, move_to: Stage | None = None) -> int:
    """Delete a stage; its opportunities must move to ``move_to``. Returns how many moved."""
    in_use = db.session.scalar(select(func.count(Opportunity.id))
                               .where(Opportunity.stage_id == stage.id))
    if in_use and (move_to is None or move_to.id == stage.id):
        raise InvalidInput({"move_to": [lazy_ngettext(
            "%(num)d opportunity is in this stage: choose another stage to move it to.",
            "%(num)d opportunities are in this stage: choose another stage to move them to.",
            in_use)]})
    if db.session.scalar(select(func.count(Stage.id))) <= 1:
        raise InvalidInput({"__all__": [_l("The funnel needs at least one stage.")]})
    if in_use:
        db.session.execute(update(Opportunity).where(Opportunity.stage_id == stage.id)
                           .values(stage_id=move_to.id),
                           execution_options={"synchronize_session": False})
    # The losses report's stage where lost goes where the opportunities went (none if
    # nothing was moved).
    moved_to = move_to.id if move_to is not None and move_to.id != stage.id else None
    db.session.execute(update(Opportunity).where(Opportunity.lost_stage_id == stage.id)
                       .values(lost_stage_id=moved_to, updated_at=Opportunity.updated_at),
                       execution_options={"synchronize_session": False})
    db.session.delete(stage)
    db.session.commit()
    return in_use


# --- loss reasons ----------------------------------------------------------------


def loss_reasons(include_archived: bool = False) -> list[LossReason]:
    statement = select(LossReason).order_by(LossReason.name)
    if not include_archived:
        statement = statement.where(LossReason.archived.is_(False))
    return list(db.session.scalars(statement))


def save_loss_reason(data: dict, reason: LossReason | None = None) -> LossReason:
    name = _name(data.get("name"), limit=120)
    _unique(LossReason, name, reason.id if reason else None)
    if reason is None:
        reason = LossReason()
        db.session.add(reason)
    reason.name = name
    db.session.commit()
    return reason


def set_loss_reason_archived(reason: LossReason, archived: bool) -> None:
    reason.archived = archived
    db.session.commit()


def delete_loss_reason(reason: LossReason) -> None:
    """Only an unused reason can be deleted; one in use is archived instead (seed 004)."""
    used = db.session.scalar(select(func.count(Opportunity.id))
                             .where(Opportunity.loss_reason_id == reason.id))
    if used:
        raise InvalidInput({"__all__": [lazy_ngettext(
            "This reason explains %(num)d lost opportunity: archive it instead.",
            "This reason explains %(num)d lost opportunities: archive it instead.", used)]})
    db.session.delete(reason)
    db.session.commit()


# --- tags ---------------------------------------------------------------------------


def tags() -> list[Tag]:
    return list(db.session.scalars(select(Tag).order_by(Tag.name)))


def save_tag(data: dict, tag: Tag | None = None) -> Tag:
    name = _name(data.get("name"))
    _unique(Tag, name, tag.id if tag else None)
    color = (data.get("color") or "#6c757d").strip()
    if not (len(color) == 7 and color.startswith("#")
            and all(c in "0123456789abcdefABCDEF" for c in color[1:])):
        raise InvalidInput({"color": [_l("Use a colour such as #0d6efd.")]})
    if tag is None:
        tag = Tag()
        db.session.add(tag)
    tag.name, tag.color = name, color
    db.session.commit()
    return tag


def delete_tag(tag: Tag) -> int:
    """Delete a tag everywhere; returns on how many records it was."""
    used = (db.session.scalar(select(func.count()).select_from(opportunity_tags)
                              .where(opportunity_tags.c.tag_id == tag.id))
            + db.session.scalar(select(func.count()).select_from(account_tags)
                                .where(account_tags.c.tag_id == tag.id)))
    db.session.delete(tag)
    db.session.commit()
    return used
