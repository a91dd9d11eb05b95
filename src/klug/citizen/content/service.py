"""Use cases of site notices and accessibility feedback."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from klug.citizen.content.models import AccessibilityFeedback, SiteNotice
from klug.citizen.content.schemas import FeedbackCreate, NoticeCreate, NoticeRead
from klug.core.audit import Actor
from klug.core.db import utcnow
from klug.core.events import publish_after_commit
from klug.core.i18n import Language
from klug.core.mail import queue_mail

NOTICES_TOPIC = "notices"


@dataclass(frozen=True)
class ShownNotice:
    """A notice in one language, as a page shows it."""

    id: int
    title: str
    body: str
    severity: str


def list_current(*, session: Session) -> list[SiteNotice]:
    now = utcnow()
    return list(
        session.scalars(
            select(SiteNotice)
            .where(
                SiteNotice.starts_at <= now,
                or_(SiteNotice.ends_at.is_(None), SiteNotice.ends_at > now),
            )
            .order_by(SiteNotice.severity.desc(), SiteNotice.starts_at.desc())
        )
    )


def list_recent(*, session: Session, limit: int = 50) -> list[SiteNotice]:
    return list(
        session.scalars(select(SiteNotice).order_by(SiteNotice.created_at.desc()).limit(limit))
    )


def in_language(notice: SiteNotice | NoticeRead, language: Language) -> ShownNotice:
    english = language == "en"
    return ShownNotice(
        id=notice.id,
        title=notice.title_en if english else notice.title_de,
        body=notice.body_en if english else notice.body_de,
        severity=notice.severity,
    )


def _announce(session: Session) -> None:
    """Tell live pages to show the current notices (published after commit)."""
    current = [
        NoticeRead.model_validate(n).model_dump(mode="json") for n in list_current(session=session)
    ]
    publish_after_commit(session, NOTICES_TOPIC, {"notices": current})


def create(
    *, session: Session, notice_in: NoticeCreate, actor: Actor | None, is_demo: bool = False
) -> SiteNotice:
    notice = SiteNotice(
        title_de=notice_in.title_de,
        title_en=notice_in.title_en,
        body_de=notice_in.body_de,
        body_en=notice_in.body_en,
        severity=notice_in.severity,
        starts_at=notice_in.starts_at or utcnow(),
        ends_at=notice_in.ends_at,
        created_by_id=actor.id if actor and actor.kind == "account" else None,
        is_demo=is_demo,
    )
    session.add(notice)
    session.flush()
    _announce(session)
    return notice


def end(*, session: Session, notice_id: int) -> SiteNotice | None:
    notice = session.get(SiteNotice, notice_id)
    if notice is None:
        return None
    now = utcnow()
    if notice.ends_at is None or notice.ends_at > now:
        notice.ends_at = now
        session.flush()
        _announce(session)
    return notice


def submit_feedback(
    *, session: Session, feedback_in: FeedbackCreate, language: Language, contact: str
) -> AccessibilityFeedback:
    feedback = AccessibilityFeedback(
        message=feedback_in.message,
        page_url=feedback_in.page_url,
        reply_email=str(feedback_in.reply_email) if feedback_in.reply_email else None,
        language=language,
    )
    session.add(feedback)
    session.flush()
    reply = feedback.reply_email or "—"
    queue_mail(
        session,
        recipient=contact,
        subject=f"Rückmeldung Barrierefreiheit #{feedback.id}",
        body=(
            f"Neue Rückmeldung zur Barrierefreiheit (#{feedback.id}, Sprache {language}).\n\n"
            f"Seite: {feedback.page_url or '—'}\nAntwort an: {reply}\n\n{feedback.message}\n"
        ),
    )
    return feedback


def list_feedback(*, session: Session, limit: int = 100) -> list[AccessibilityFeedback]:
    return list(
        session.scalars(
            select(AccessibilityFeedback)
            .order_by(AccessibilityFeedback.created_at.desc())
            .limit(limit)
        )
    )
