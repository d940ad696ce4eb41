"""X channel: send priority and uncertain sends, send budget, rate-limit readings, poll cursors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('commands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), server_default='2', nullable=False))
        batch_op.add_column(sa.Column('uncertain_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table('send_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('send_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_send_attempts_budget_at', ['budget', 'at'], unique=False)
    op.create_table('rate_limit_readings',
    sa.Column('budget', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('limit', sa.Integer(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('reset_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('after_attempt', sa.Integer(), nullable=False),
    sa.Column('observed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('budget')
    )
    op.create_table('ingest_cursors',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('ingest_cursors')
    op.drop_table('rate_limit_readings')
    with op.batch_alter_table('send_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_send_attempts_budget_at')
    op.drop_table('send_attempts')
    with op.batch_alter_table('commands', schema=None) as batch_op:
        batch_op.drop_column('uncertain_since')
        batch_op.drop_column('priority')
