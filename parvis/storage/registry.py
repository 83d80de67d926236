"""Imports every feature's models so `Base.metadata` knows all tables (for Alembic and tests)."""

from parvis.accounts import models as accounts_models
from parvis.api import models as api_models
from parvis.audit import models as audit_models
from parvis.live import models as live_models
from parvis.mail import models as mail_models
from parvis.moderation import models as moderation_models
from parvis.social import models as social_models
from parvis.storage.base import Base
from parvis.transparency import models as transparency_models

__all__ = [
    "Base",
    "accounts_models",
    "api_models",
    "audit_models",
    "live_models",
    "mail_models",
    "moderation_models",
    "social_models",
    "transparency_models",
]

metadata = Base.metadata
