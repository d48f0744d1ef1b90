"""The small world the access matrix asks about, made through the real services.

Users: one per seeded role (``sales_manager`` and ``sales_rep`` in the team "Vendas"), a
user with no role, and two more reps who own records: ``rep_b`` in the same team as the
rep and the manager, ``rep_c`` in another team. Every kind of record a route can name
exists three times, labelled by how it relates to the matrix's sales rep ("rep"):

* ``own``   — owned by the rep (for records of an account: on the rep's account);
* ``team``  — owned by rep_b, the rep's team-mate (in the manager's team too);
* ``other`` — owned by rep_c, of another team.

Records without an owner (catalog products, stages, tags, loss reasons, outbox mail) also
come in threes, so that three writes can go to three different rows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from erp.api.tokens import create_token
from erp.auth.models import Team, User
from erp.auth.seed import ensure_default_roles, grant_module_defaults
from erp.db import db
from erp.imports import services as imports
from erp.mail import queue_mail
from modules.crm.models import Account, LossReason
from modules.crm.services import settings
from modules.crm.services.accounts import create_account
from modules.crm.services.actions import create_action
from modules.crm.services.contacts import create_contact
from modules.crm.services.drafts import save_draft
from modules.crm.services.opportunities import create_opportunity
from modules.finance import services as finance
from modules.finance.models import Receivable
from modules.sales import services as sales
from modules.service import services as service
from tests.conftest import password_hash

LABELS = ("own", "team", "other")
OWNERS = {"own": "rep", "team": "rep_b", "other": "rep_c"}
# The users who act in the matrix, by the role they stand for.
ACTORS = ("admin", "sales_manager", "sales_rep", "finance", "service", "nobody")
ACTOR_USERS = {"admin": "admin", "sales_manager": "manager", "sales_rep": "rep",
               "finance": "finance", "service": "service", "nobody": "nobody"}


@dataclass
class World:
    users: dict[str, int] = field(default_factory=dict)  # user name -> id
    tokens: dict[str, str] = field(default_factory=dict)  # user name -> API token
    records: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> label -> id

    def record(self, kind: str, label: str) -> int:
        return self.records[kind][label]


def _users(app, world: World) -> dict[str, User]:
    registry = app.extensions["erp"]
    roles = ensure_default_roles()
    for module in app.extensions["erp_modules"]:
        grant_module_defaults(registry, module.name, roles)
    sales, other = Team(name="Vendas"), Team(name="Outra equipe")
    db.session.add_all([sales, other])
    people = {
        "admin": ([roles["admin"]], None), "manager": ([roles["sales_manager"]], sales),
        "rep": ([roles["sales_rep"]], sales), "rep_b": ([roles["sales_rep"]], sales),
        "rep_c": ([roles["sales_rep"]], other), "finance": ([roles["finance"]], None),
        "service": ([roles["service"]], None), "nobody": ([], None),
    }
    made = {}
    for name, (user_roles, team) in people.items():
        made[name] = User(username=name, name=name.title(), email=f"{name}@example.com",
                          roles=user_roles, team=team, password_hash=password_hash())
    db.session.add_all(made.values())
    db.session.commit()
    world.users = {name: user.id for name, user in made.items()}
    for name, user in made.items():
        world.tokens[name] = create_token(user, "matrix")[1]
    return made


def _crm(world: World, owner: User, label: str, n: int) -> None:
    account = create_account({"legal_name": f"Conta {label} Ltda."}, user=owner,
                             confirm_duplicates=True)
    contact = create_contact({"name": f"Contato {label}", "email": f"c{n}@cliente.example"},
                             user=owner, account=account, role="Compras")
    stage = settings.stages()[0]
    opportunity = create_opportunity({"account_id": account.id, "title": f"Oportunidade {n}",
                                      "stage_id": stage.id}, user=owner)
    action = create_action({"account_id": account.id, "kind": "call",
                            "at": (date.today() + timedelta(days=3)).isoformat() + "T10:00",
                            "description": "Ligar", "user_id": owner.id}, user=owner)
    draft = save_draft({"title": f"Rascunho {n}"}, user=owner)
    for kind, record in (("account", account), ("contact", contact),
                         ("opportunity", opportunity), ("action", action), ("draft", draft)):
        world.records.setdefault(kind, {})[label] = record.id


def _sales(world: World, owner: User, label: str) -> None:
    account = db.session.get(Account, world.record("account", label))
    line = [{"description": "Consultoria", "quantity": "1", "unit_price": "100,00"}]
    quote = sales.create_quote(account, {"valid_until": date.today().isoformat(),
                                         "lines": line}, user=owner)
    order = sales.create_order(account, {"lines": line}, user=owner)
    invoiced = sales.create_order(account, {"lines": line}, user=owner)
    invoice = sales.issue_invoice(invoiced, {"installments": "1",
                                             "first_due_date": date.today().isoformat()},
                                  user=owner)
    receivable = db.session.scalar(select(Receivable).where(
        Receivable.account_id == account.id).order_by(Receivable.id))
    # A payment, on a receivable of its own (the invoice's stays cancellable).
    (paid,) = finance.create_receivables(account, {"document": "Avulso", "amount": "10,00",
                                                   "due_date": date.today().isoformat()},
                                         user=owner)
    payment = finance.record_payment(paid, {"amount": "1,00", "method": "pix"}, user=owner)
    for kind, record in (("quote", quote), ("sales_order", order), ("sales_invoice", invoice),
                         ("receivable", receivable), ("payment", payment)):
        world.records.setdefault(kind, {})[label] = record.id


def _service(world: World, label: str, clerk: User) -> None:
    account = db.session.get(Account, world.record("account", label))
    items = [{"description": "Cabo", "quantity": "2", "unit_price": "50,00"}]
    order = service.create_order(account, {"description": "Instalar", "items": items,
                                           "technician_id": clerk.id}, user=clerk)
    done = service.create_order(account, {"description": "Configurar", "items": items,
                                          "technician_id": clerk.id}, user=clerk)
    service.change_status(done, "in_progress", user=clerk)
    service.change_status(done, "done", user=clerk)
    invoice = service.issue_invoice(done, {"due_date": date.today().isoformat()}, user=clerk)
    world.records.setdefault("service_order", {})[label] = order.id
    world.records.setdefault("service_invoice", {})[label] = invoice.id


def _import_job(world: World, owner: User, label: str) -> None:
    """A finished account import whose row was rejected (so its rejects file exists).
    The app's IMPORT_FOLDER is where the file goes: the caller points it to a temporary
    folder."""
    content = "Razão social;CNPJ\r\nSem documento;123\r\n".encode()
    job = imports.store_upload(io.BytesIO(content), "contas.csv", user=owner, kind="accounts")
    imports.save_mapping(job, job.mapping)
    imports.start(job, skip_invalid=False, background=False)
    world.records.setdefault("import_job", {})[label] = job.id


def _unowned(world: World) -> None:
    stages = settings.stages()
    reasons = db.session.scalars(select(LossReason).order_by(LossReason.id)).all()
    for n, label in enumerate(LABELS):
        tag = settings.save_tag({"name": f"Etiqueta {n}"})
        product = sales.create_product({"code": f"P-{n}", "name": f"Produto {n}", "price": "10,00"})
        mail = queue_mail(f"destino{n}@cliente.example", f"Assunto {n}", "Texto")
        db.session.commit()
        for kind, record in (("stage", stages[n]), ("loss_reason", reasons[n]), ("tag", tag),
                             ("product", product), ("outbox_message", mail)):
            world.records.setdefault(kind, {})[label] = record.id


def build_world(app) -> World:
    """Create the world (in an app context of its own) and return the ids."""
    world = World()
    with app.app_context():
        users = _users(app, world)
        settings.ensure_defaults()
        db.session.commit()
        for n, label in enumerate(LABELS):
            owner = users[OWNERS[label]]
            _crm(world, owner, label, n)
            _sales(world, owner, label)
            _service(world, label, users["service"])
            _import_job(world, owner, label)
            # An API token of the owner's, to revoke (not the one the matrix calls with).
            world.records.setdefault("api_token", {})[label] = create_token(owner, label)[0].id
        _unowned(world)
        db.session.remove()
    return world
