"""Policy: the audit log of policy decisions, and what each compensation cost (for the daily budget)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('policy_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('order_number', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('situation', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('policy_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_decisions_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_policy_decisions_order_number'), ['order_number'], unique=False)

    with op.batch_alter_table('compensations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('value', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index('ix_compensations_created', ['created_at'], unique=False)
        batch_op.create_index('ix_compensations_customer_created', ['customer_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('compensations', schema=None) as batch_op:
        batch_op.drop_index('ix_compensations_customer_created')
        batch_op.drop_index('ix_compensations_created')
        batch_op.drop_column('value')

    with op.batch_alter_table('policy_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_decisions_order_number'))
        batch_op.drop_index(batch_op.f('ix_policy_decisions_conversation_id'))

    op.drop_table('policy_decisions')
