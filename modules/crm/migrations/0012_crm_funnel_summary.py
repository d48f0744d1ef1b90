"""crm: the funnel report's summary of each opportunity's history, so the report reads a
period's opportunities and never their history (issue 15): the furthest stage its
history reached (in the created_at covering index), and its stays per stage name (days
of the ended ones, start of the one going on), computed here from the existing history

Revision ID: 0012_crm_funnel_summary
Revises: 0011_crm_action_report_covering
Create Date: 2026-11-29 23:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0012_crm_funnel_summary'
down_revision = '0011_crm_action_report_covering'
branch_labels = None
depends_on = None

# The furthest stage of each opportunity's "created" and "stage" rows, by the stages'
# names and order now; only opportunities with such rows (the others stay NULL).
FURTHEST = """
UPDATE crm_opportunity SET furthest_stage_id = (
    SELECT sp.id FROM crm_opportunity_change c
    JOIN (SELECT id, name, row_number() OVER (ORDER BY sequence, id) AS pos
          FROM crm_stage) sp ON sp.name = c.new_value
    WHERE c.opportunity_id = crm_opportunity.id AND c.field IN ('created', 'stage')
    ORDER BY sp.pos DESC LIMIT 1)
WHERE id IN (SELECT opportunity_id FROM crm_opportunity_change
             WHERE field IN ('created', 'stage'))
"""

# The stays (modules/crm/services/funnel_summary.py, stays_select, computes the same):
# each stage or status row starts a stay that ends at the next one; the stage and status
# in force are carried forward from the last row of each kind; only stays while open
# (no status row yet, or 'open') count, summed per opportunity and stage name.
STAYS = """
INSERT INTO crm_opportunity_stay (opportunity_id, stage_name, created_at, owner_id, days,
                                  since)
SELECT computed.opp, computed.stage_name, o.created_at, o.owner_id, computed.days,
       computed.since
FROM (
    SELECT s.opp, s.stage_name,
           COALESCE(SUM(CASE WHEN s.next_at IS NOT NULL THEN {days} ELSE 0.0 END), 0.0)
               AS days,
           MAX(CASE WHEN s.next_at IS NULL THEN s.at END) AS since
    FROM (
        SELECT e.opp, e.at, e.next_at,
               MAX(CASE WHEN e.field IN ('created', 'stage') THEN e.new_value END)
                   OVER (PARTITION BY e.opp, e.stage_group) AS stage_name,
               MAX(CASE WHEN e.field = 'status' THEN e.new_value END)
                   OVER (PARTITION BY e.opp, e.status_group) AS status
        FROM (
            SELECT c.opportunity_id AS opp, c.at, c.field, c.new_value,
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
    WHERE s.stage_name IS NOT NULL AND (s.status IS NULL OR s.status = 'open')
    GROUP BY s.opp, s.stage_name
) computed
JOIN crm_opportunity o ON o.id = computed.opp
"""

DAYS = {"sqlite": "(julianday(s.next_at) - julianday(s.at))",
        "postgresql": "(EXTRACT(EPOCH FROM (s.next_at - s.at)) / 86400.0)"}


def upgrade():
    op.add_column('crm_opportunity', sa.Column('furthest_stage_id', sa.Integer(),
                                               nullable=True))
    op.drop_index('ix_crm_opportunity_created', table_name='crm_opportunity')
    op.create_index('ix_crm_opportunity_created', 'crm_opportunity',
                    ['created_at', 'owner_id', 'stage_id', 'status', 'furthest_stage_id',
                     'estimated_value', 'closed_at', 'id'], unique=False)
    op.create_table('crm_opportunity_stay',
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('stage_name', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('days', sa.Float(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(
        ['opportunity_id'], ['crm_opportunity.id'],
        name=op.f('fk_crm_opportunity_stay_opportunity_id_crm_opportunity'),
        ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('opportunity_id', 'stage_name',
                            name=op.f('pk_crm_opportunity_stay'))
    )
    op.create_index('ix_crm_opportunity_stay_created', 'crm_opportunity_stay',
                    ['created_at', 'owner_id', 'stage_name', 'days', 'since'], unique=False)
    dialect = op.get_bind().dialect.name
    op.execute(FURTHEST)
    op.execute(STAYS.format(days=DAYS.get(dialect, DAYS["sqlite"])))


def downgrade():
    op.drop_index('ix_crm_opportunity_stay_created', table_name='crm_opportunity_stay')
    op.drop_table('crm_opportunity_stay')
    op.drop_index('ix_crm_opportunity_created', table_name='crm_opportunity')
    op.create_index('ix_crm_opportunity_created', 'crm_opportunity',
                    ['created_at', 'owner_id', 'stage_id', 'status', 'estimated_value',
                     'closed_at', 'id'], unique=False)
    op.drop_column('crm_opportunity', 'furthest_stage_id')
