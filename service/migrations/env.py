"""Alembic environment: the engine comes from ``config.attributes["engine"]``."""

from __future__ import annotations

from alembic import context

from service.db import Base
from service.migrations import lock_if_postgres, unlock_if_postgres

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # e.g. `alembic -c ...` by hand: fall back to the configured URL
    from service.config import load_settings
    from service.db import make_engine

    engine = make_engine(load_settings().database_url)

with engine.connect() as connection:
    lock_if_postgres(connection)
    connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        unlock_if_postgres(connection)
        connection.commit()
