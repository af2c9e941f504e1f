"""A story's variants: the headlines it serves at random and the paragraphs that come and go.

Rows exist only once the rule in `tracker.core.variants` recognised them; a flip between
them then counts a serving here instead of storing a version. `present` says whether the
page as last read showed the variant, so a check that finds the page as last read (the same
fingerprint, or the same region) counts the same variants again without reading them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.store.base import Base, UTCDateTime


class StoryVariant(Base):
    __tablename__ = "story_variants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # tracker.core.variants.VariantKind
    # sha256 of the text: the unique key (a paragraph may be longer than an index allows).
    digest: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Checks that read it (before it was recognised: the versions that showed it).
    times_served: Mapped[int] = mapped_column(Integer, default=0)
    present: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        # Also the index a story's variants are read by (story_id leads).
        UniqueConstraint("story_id", "kind", "digest"),
    )
