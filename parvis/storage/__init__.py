"""Storage: the SQLAlchemy base, engines and sessions, and the Alembic migrations."""
