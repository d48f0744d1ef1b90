"""crm: pipeline history by stage id, and the stage where an opportunity was lost (issue 19)

The change history named stages by their name at the time, so renaming a stage dropped
its older stays from the funnel report's days in stage. Now:

* ``crm_opportunity_change.stage_id``: the stage a ``created`` or ``stage`` row put the
  opportunity in (``new_value`` keeps the name as it was, for display), backfilled by
  matching the names to today's stages (a name no stage has any more: NULL, name kept);
* ``crm_opportunity_stay`` per stage id instead of per stage name, recomputed from the
  history (the same stays as services/funnel_summary.py computes);
* ``crm_opportunity.lost_stage_id``: the stage it stood in when it was lost, backfilled
  from the history (the stage of the last stage row before its last "lost" status row;
  without such a row, its current stage, what the losses report showed until now), and
  the losses report's covering index by it instead of the current stage.

The way back restores the stays per name (computed from the names, as crm 0012 did) and
drops the new columns.

Revision ID: 0018_crm_stage_history
Revises: 0017_crm_merge
Create Date: 2026-11-30 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_crm_stage_history"
down_revision = "0017_crm_merge"
branch_labels = None
depends_on = None

BACKFILL_CHANGE = """
UPDATE crm_opportunity_change SET stage_id = (
    SELECT s.id FROM crm_stage s WHERE s.name = crm_opportunity_change.new_value)
WHERE field IN ('created', 'stage')
"""

# The stage in force at the last "lost" status row (the last stage row before it), for
# the lost opportunities that have one; their current stage otherwise.
BACKFILL_LOST = """
UPDATE crm_opportunity SET lost_stage_id = CASE
    WHEN EXISTS (SELECT 1 FROM crm_opportunity_change l
                 WHERE l.opportunity_id = crm_opportunity.id AND l.field = 'status'
                   AND l.new_value LIKE 'lost%')
    THEN (SELECT c.stage_id FROM crm_opportunity_change c
          JOIN (SELECT l.at, l.id FROM crm_opportunity_change l
                WHERE l.opportunity_id = crm_opportunity.id AND l.field = 'status'
                  AND l.new_value LIKE 'lost%'
                ORDER BY l.at DESC, l.id DESC LIMIT 1) last_lost
            ON c.at < last_lost.at OR (c.at = last_lost.at AND c.id < last_lost.id)
          WHERE c.opportunity_id = crm_opportunity.id AND c.field IN ('created', 'stage')
          ORDER BY c.at DESC, c.id DESC LIMIT 1)
    ELSE stage_id END
WHERE status = 'lost'
"""

# The stays (services/funnel_summary.py, stays_select, computes the same): each stage or
# status row starts a stay that ends at the next one; the stage and status in force are
# carried forward from the last row of each kind; only stays while open count, summed
# per opportunity and {key} (stage_id now, the stage name on the way back).
STAYS = """
INSERT INTO crm_opportunity_stay (opportunity_id, {column}, created_at, owner_id, days,
                                  since)
SELECT computed.opp, computed.stage_key, o.created_at, o.owner_id, computed.days,
       computed.since
FROM (
    SELECT s.opp, s.stage_key,
           COALESCE(SUM(CASE WHEN s.next_at IS NOT NULL THEN {days} ELSE 0.0 END), 0.0)
               AS days,
           MAX(CASE WHEN s.next_at IS NULL THEN s.at END) AS since
    FROM (
        SELECT e.opp, e.at, e.next_at,
               MAX(CASE WHEN e.field IN ('created', 'stage') THEN e.stage_key END)
                   OVER (PARTITION BY e.opp, e.stage_group) AS stage_key,
               MAX(CASE WHEN e.field = 'status' THEN e.new_value END)
                   OVER (PARTITION BY e.opp, e.status_group) AS status
        FROM (
            SELECT c.opportunity_id AS opp, c.at, c.field, c.new_value,
                   c.{key} AS stage_key,
                   SUM(CASE WHEN c.field IN ('created', 'stage') THEN 1 ELSE 0 END)
                       OVER (PARTITION BY c.opportunity_id ORDER BY c.at, c.id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                       AS stage_group,
                   SUM(CASE WHEN c.field = 'status' THEN 1 ELSE 0 END)
                       OVER (PARTITION BY c.opportunity_id ORDER BY c.at, c.id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                       AS status_group,
                   LEAD(c.at) OVER (PARTITION BY c.opportunity_id ORDER BY c.at, c.id)
                       AS next_at
            FROM crm_opportunity_change c
            WHERE c.field IN ('created', 'stage', 'status')
        ) e
    ) s
    WHERE s.stage_key IS NOT NULL AND (s.status IS NULL OR s.status = 'open')
    GROUP BY s.opp, s.stage_key
) computed
JOIN crm_opportunity o ON o.id = computed.opp
"""

DAYS = {"sqlite": "(julianday(s.next_at) - julianday(s.at))",
        "postgresql": "(EXTRACT(EPOCH FROM (s.next_at - s.at)) / 86400.0)"}


def _stays(by_id: bool) -> str:
    dialect = op.get_bind().dialect.name
    return STAYS.format(column="stage_id" if by_id else "stage_name",
                        key="stage_id" if by_id else "new_value",
                        days=DAYS.get(dialect, DAYS["sqlite"]))


def _stay_table(by_id: bool) -> None:
    if by_id:
        key = sa.Column("stage_id", sa.Integer(), nullable=False)
        extra = [sa.ForeignKeyConstraint(
            ["stage_id"], ["crm_stage.id"],
            name=op.f("fk_crm_opportunity_stay_stage_id_crm_stage"), ondelete="CASCADE")]
    else:
        key = sa.Column("stage_name", sa.String(length=60), nullable=False)
        extra = []
    op.create_table(
        "crm_opportunity_stay",
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        key,
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Float(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["opportunity_id"], ["crm_opportunity.id"],
            name=op.f("fk_crm_opportunity_stay_opportunity_id_crm_opportunity"),
            ondelete="CASCADE"),
        *extra,
        sa.PrimaryKeyConstraint("opportunity_id", key.name,
                                name=op.f("pk_crm_opportunity_stay")),
    )
    op.create_index("ix_crm_opportunity_stay_report", "crm_opportunity_stay",
                    [key.name, "created_at", "owner_id", "days", "since"], unique=False)
    op.execute(_stays(by_id))


def _drop_stay_table() -> None:
    op.drop_index("ix_crm_opportunity_stay_report", table_name="crm_opportunity_stay")
    op.drop_table("crm_opportunity_stay")


def _closed_index(stage_column: str) -> None:
    op.drop_index("ix_crm_opportunity_closed", table_name="crm_opportunity")
    op.create_index("ix_crm_opportunity_closed", "crm_opportunity",
                    ["status", "closed_at", "owner_id", "loss_reason_id", stage_column,
                     "estimated_value"], unique=False)


def upgrade():
    # On SQLite the history is copied once (a foreign key needs the table rebuilt there).
    with op.batch_alter_table("crm_opportunity_change") as batch_op:
        batch_op.add_column(sa.Column("stage_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_crm_opportunity_change_stage_id_crm_stage"),
                                    "crm_stage", ["stage_id"], ["id"], ondelete="SET NULL")
    op.execute(BACKFILL_CHANGE)

    op.add_column("crm_opportunity", sa.Column("lost_stage_id", sa.Integer(), nullable=True))
    op.execute(BACKFILL_LOST)
    _closed_index("lost_stage_id")

    _drop_stay_table()
    _stay_table(by_id=True)


def downgrade():
    _drop_stay_table()
    _stay_table(by_id=False)

    _closed_index("stage_id")
    op.drop_column("crm_opportunity", "lost_stage_id")

    with op.batch_alter_table("crm_opportunity_change") as batch_op:
        batch_op.drop_constraint(op.f("fk_crm_opportunity_change_stage_id_crm_stage"),
                                 type_="foreignkey")
        batch_op.drop_column("stage_id")
