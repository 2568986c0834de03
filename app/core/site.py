"""Site settings an admin can edit (the call and consent texts) and the reference data an install starts with.

The call text, the consent text and the names of departments and topics each have an English and a Russian
version; where the reader's version is missing, the other one is shown, marked with its language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.i18n import current_locale
from app.core.i18n import gettext as _
from app.models import Department, SiteSetting, Topic, utcnow

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
CONTENT_LANGUAGES = ("en", "ru")
DEFAULT_DEPARTMENTS = [("news", "News", "Новости"), ("analysis", "Analysis", "Аналитика")]
DEFAULT_TOPICS = [
    ("politics", "Politics", "Политика"),
    ("economics", "Economics", "Экономика"),
    ("international", "International affairs", "Международные отношения"),
    ("business", "Business and markets", "Бизнес и рынки"),
    ("society", "Society", "Общество"),
]
CONSENT_VERSION = "2026-11"
CONSENT_TEXT = (
    "I agree that {publication} stores and processes the information in this application (my contact "
    "details, letters and work samples) to assess it and to contact me about it. Editors and fact-checkers "
    "of {publication} can read it. Rejected and withdrawn applications are erased after the retention "
    "period, and I can download or erase my data at any time from my private status page."
)
CONSENT_TEXT_RU = (
    "Даю согласие {publication} на хранение и обработку данных этой заявки (моих контактов, писем и образцов "
    "работ), чтобы её рассмотреть и связаться со мной. Их могут читать редакторы и фактчекеры {publication}. "
    "Отклонённые и отозванные заявки удаляются по истечении срока хранения; свои данные я могу в любой "
    "момент скачать или удалить на личной странице заявки."
)
DEFAULT_CONSENT = {"en": CONSENT_TEXT, "ru": CONSENT_TEXT_RU}
CALL_FILES = {"en": "call-for-authors.txt", "ru": "call-for-authors.ru.txt"}


@dataclass(frozen=True)
class Localized:
    """One text in the language it is actually in; `fallback` when the reader's language had none."""

    text: str
    lang: str
    fallback: bool = False

    def __str__(self) -> str:
        return self.text


def pick(versions: dict[str, str], locale: str | None = None) -> Localized:
    """The version in `locale` (the request's language), else the first other language that has one."""
    locale = locale or current_locale()
    if versions.get(locale, "").strip():
        return Localized(versions[locale], locale)
    for lang in CONTENT_LANGUAGES:
        if lang != locale and versions.get(lang, "").strip():
            return Localized(versions[lang], lang, fallback=True)
    return Localized("", locale)


def localized(item: Department | Topic, locale: str | None = None) -> Localized:
    """A department's or topic's name in the reader's language, or in the other one."""
    return pick({"en": item.name, "ru": item.name_ru}, locale)


def fallback_note(lang: str) -> str:
    """The short note beside a text shown in another language than the reader's."""
    if lang == "ru":
        return _("This text is only available in Russian for now.")
    return _("This text is only available in English for now.")


def name_in_locale(item: Department | Topic | Localized) -> Markup:
    """A name for a template: plain in the reader's language, else marked with its language and a note."""
    shown = item if isinstance(item, Localized) else localized(item)
    if not shown.fallback:
        return escape(shown.text)
    return Markup(
        '<span lang="{lang}">{text}</span> <small class="muted fallback-note">({note})</small>'
    ).format(lang=shown.lang, text=shown.text, note=fallback_note(shown.lang).rstrip("."))


def lang_attr(shown: Localized) -> Markup:
    """A `lang` attribute for an element holding a text shown in another language than the reader's."""
    return Markup(' lang="{lang}"').format(lang=shown.lang) if shown.fallback else Markup("")


def fallback_note_html(shown: Localized) -> Markup:
    """The note under a long text shown in another language than the reader's."""
    if not shown.fallback:
        return Markup("")
    return Markup('<p class="muted fallback-note">{note}</p>').format(note=fallback_note(shown.lang))


def name_column(model: type[Department] | type[Topic], locale: str | None = None) -> Any:
    """The SQL expression of a department's or topic's name in the reader's language, else the other one."""
    first, second = (
        (model.name_ru, model.name) if (locale or current_locale()) == "ru" else (model.name, model.name_ru)
    )
    return func.coalesce(func.nullif(col(first), ""), col(second))


def default_call_text(lang: str = "en") -> str:
    return (CONTENT_DIR / CALL_FILES[lang]).read_text(encoding="utf-8").strip()


def _setting_key(name: str, lang: str) -> str:
    return name if lang == "en" else f"{name}_{lang}"


async def get_setting(session: AsyncSession, key: str, default: Any) -> Any:
    row = await session.get(SiteSetting, key)
    return default if row is None else row.value


async def set_setting(session: AsyncSession, key: str, value: Any, now: datetime) -> None:
    row = await session.get(SiteSetting, key)
    if row is None:
        session.add(SiteSetting(key=key, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
        session.add(row)
    await session.flush()


@cache
def _settings_statement() -> Any:
    """Site settings by the keys bound as `keys` (one statement for several, built once)."""
    return select(col(SiteSetting.key), col(SiteSetting.value)).where(
        col(SiteSetting.key).in_(bindparam("keys", expanding=True))
    )


async def text_versions(session: AsyncSession, name: str) -> dict[str, str]:
    """Both language versions of the call text ("call_text") or the consent text ("consent_text")."""
    keys = {lang: _setting_key(name, lang) for lang in CONTENT_LANGUAGES}
    stored = dict((await session.execute(_settings_statement(), {"keys": list(keys.values())})).all())
    versions = {}
    for lang, key in keys.items():
        if key in stored:
            versions[lang] = str(stored[key])
        else:
            versions[lang] = default_call_text(lang) if name == "call_text" else DEFAULT_CONSENT[lang]
    return versions


async def save_text_versions(
    session: AsyncSession, name: str, versions: dict[str, str], now: datetime
) -> None:
    for lang in CONTENT_LANGUAGES:
        await set_setting(session, _setting_key(name, lang), versions.get(lang, "").strip(), now)


async def call_text(session: AsyncSession) -> Localized:
    """The call for authors as the admin last set it, in the reader's language where there is one."""
    return pick(await text_versions(session, "call_text"))


async def consent(session: AsyncSession, publication: str) -> Localized:
    """The consent text in the reader's language where there is one, with the publication's name."""
    shown = pick(await text_versions(session, "consent_text"))
    return Localized(shown.text.replace("{publication}", publication), shown.lang, shown.fallback)


async def due_days(session: AsyncSession) -> dict[str, int]:
    """Per-state due times in days as the admin set them (states left out keep the workflow's default)."""
    value = await get_setting(session, "due_days", {})
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}


async def list_departments(session: AsyncSession) -> list[Department]:
    return list((await session.scalars(select(Department).order_by(col(Department.position)))).all())


async def list_topics(session: AsyncSession) -> list[Topic]:
    return list((await session.scalars(select(Topic).order_by(col(Topic.position)))).all())


async def ensure_reference_data(session: AsyncSession) -> None:
    """Insert the default departments, topics and call text where they are missing."""
    have = set((await session.scalars(select(col(Department.slug)))).all())
    for position, (slug, name, name_ru) in enumerate(DEFAULT_DEPARTMENTS):
        if slug not in have:
            session.add(Department(slug=slug, name=name, name_ru=name_ru, position=position))
    have = set((await session.scalars(select(col(Topic.slug)))).all())
    for position, (slug, name, name_ru) in enumerate(DEFAULT_TOPICS):
        if slug not in have:
            session.add(Topic(slug=slug, name=name, name_ru=name_ru, position=position))
    if await session.get(SiteSetting, "call_text") is None:
        session.add(SiteSetting(key="call_text", value=default_call_text(), updated_at=utcnow()))
    await session.flush()


TEXT_LIMIT = 10_000
NAME_LIMIT = 80
CONTENT_TEXTS = ("call_text", "consent_text")


@dataclass(frozen=True)
class ContentPage:
    """What the admin's content page shows: both versions of each text and of each name."""

    texts: dict[str, dict[str, str]]
    departments: list[Department]
    topics: list[Topic]


async def content_page(session: AsyncSession) -> ContentPage:
    texts = {name: await text_versions(session, name) for name in CONTENT_TEXTS}
    return ContentPage(texts, await list_departments(session), await list_topics(session))


def _field(form: dict[str, str], key: str) -> str:
    return " ".join(form.get(key, "").split()) if "name" in key else form.get(key, "").replace("\r\n", "\n")


async def save_content(session: AsyncSession, form: dict[str, str], now: datetime) -> dict[str, str]:
    """Save both versions of the texts and names from the content form, or nothing and the errors."""
    errors: dict[str, str] = {}
    texts = {
        name: {lang: _field(form, f"{name}_{lang}").strip() for lang in CONTENT_LANGUAGES}
        for name in CONTENT_TEXTS
    }
    for name, versions in texts.items():
        if not any(versions.values()):
            errors[f"{name}_en"] = _("Write this text in at least one language.")
        for lang, text in versions.items():
            if len(text) > TEXT_LIMIT:
                errors[f"{name}_{lang}"] = _("Keep this text under %(limit)s characters.", limit=TEXT_LIMIT)
    items: list[Department | Topic] = [*await list_departments(session), *await list_topics(session)]
    names: dict[str, dict[str, str]] = {}
    for item in items:
        prefix = f"{type(item).__name__.lower()}_{item.id}"
        names[prefix] = {lang: _field(form, f"{prefix}_name_{lang}") for lang in CONTENT_LANGUAGES}
        if not any(names[prefix].values()):
            errors[f"{prefix}_name_en"] = _("Give a name in at least one language.")
        elif any(len(name) > NAME_LIMIT for name in names[prefix].values()):
            errors[f"{prefix}_name_en"] = _("Keep names under %(limit)s characters.", limit=NAME_LIMIT)
    if errors:
        return errors
    for item in items:
        item.name, item.name_ru = names[f"{type(item).__name__.lower()}_{item.id}"].values()
    for name, versions in texts.items():
        await save_text_versions(session, name, versions, now)
    session.add_all(items)
    await session.flush()
    return {}
