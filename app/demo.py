"""Demo data for trying Byline: a demo admin and applications with real PDF, DOCX, link and text samples."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.passwords import generate_password, hash_password
from app.applications import uploads
from app.applications.forms import ApplicantFields, SampleSlot
from app.applications.service import create_application
from app.core.db import delete_on_rollback
from app.core.i18n import use_locale
from app.core.site import CONTENT_DIR
from app.demo_states import walk_to_states
from app.models import Application, Department, SiteSetting, Topic, User, utcnow
from app.settings import Settings

DEMO_FLAG = "demo_loaded"

# (name, city, country, departments, topics, the language they apply in)
PEOPLE = [
    ("Leyla Mammadova", "Baku", "Azerbaijan", ["news", "analysis"], ["politics", "international"], "en"),
    ("Анна Соколова", "Новосибирск", "Россия", ["analysis"], ["economics", "business"], "ru"),
    ("Ana Ribeiro", "Lisbon", "Portugal", ["news"], ["politics", "society"], "en"),
    ("Mehmet Kaya", "Ankara", "Turkey", ["news", "analysis"], ["international", "politics"], "en"),
    ("Дмитрий Орлов", "Екатеринбург", "Россия", ["news"], ["economics", "politics"], "ru"),
    ("Daniel Okafor", "Lagos", "Nigeria", ["news"], ["business", "economics"], "en"),
    ("Мария Ковалёва", "Казань", "Россия", ["news", "analysis"], ["society", "politics"], "ru"),
    ("Pablo Ortega", "Madrid", "Spain", ["analysis"], ["economics", "international"], "en"),
    ("Ayesha Rahman", "Dhaka", "Bangladesh", ["news", "analysis"], ["society"], "en"),
    ("Илья Гринберг", "Нижний Новгород", "Россия", ["analysis"], ["business"], "ru"),
]

LATIN_SLUGS = {
    "Анна Соколова": "anna.sokolova",
    "Дмитрий Орлов": "dmitry.orlov",
    "Мария Ковалёва": "maria.kovaleva",
    "Илья Гринберг": "ilya.grinberg",
}

# What each applicant writes, in the language they apply in.
LETTERS = {
    "en": {
        "motivation": (
            "I have followed {publication} for years and would like to contribute concise analysis of "
            "regional politics and the economy. I read primary sources in three languages and check every "
            "figure before it goes into a text."
        ),
        "experience": [
            "Four years as a staff reporter at a regional daily; fact-checking for a weekly.",
            "Freelance economic analysis for two business portals; a master's degree in economics.",
            "Foreign desk intern, then two years of freelance news writing on the South Caucasus.",
        ],
        "availability": ["Two pieces a week", "One long read a month", "Daily news shifts"],
        "portfolio": "Portfolio",
    },
    "ru": {
        "motivation": (
            "Давно читаю {publication} и хочу писать для вас короткие разборы региональной политики "
            "и экономики. Работаю с первоисточниками — бюджетами, отчётностью, стенограммами — и проверяю "
            "каждую цифру, прежде чем она попадёт в текст."
        ),
        "experience": [
            "Пять лет в отделе экономики областной газеты, последние два года — редактор выпуска.",
            "Фрилансер: новости и аналитика о госфинансах для двух деловых изданий, экономист.",
            "Стажировка в информагентстве, затем три года в отделе политики городского портала.",
        ],
        "availability": ["Два текста в неделю", "Один большой материал в месяц", "Новостные смены по будням"],
        "portfolio": "Портфолио",
    },
}

# The demo staff: (email, name, roles). The admin also edits so one login shows everything.
DEMO_STAFF = [
    ("admin@byline.example", "Demo Admin", ("admin", "editor")),
    ("editor@byline.example", "Demo Editor", ("editor",)),
    ("checker@byline.example", "Demo Fact-checker", ("fact_checker",)),
    ("finance@byline.example", "Demo Finance", ("finance",)),
]


SAMPLE_FILES = {"en": "work-sample-news.txt", "ru": "work-sample-news.ru.txt"}


def news_sample(lang: str = "en") -> str:
    """The news piece shipped with the project in `lang`, used as a work sample."""
    return (CONTENT_DIR / SAMPLE_FILES[lang]).read_text(encoding="utf-8").strip()


def make_pdf(title: str, body: str) -> bytes:
    """A small real PDF of `body` (core fonts, so text is reduced to Latin-1)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, title.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for paragraph in body.split("\n"):
        if paragraph.strip():
            pdf.multi_cell(
                0, 6, paragraph.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT"
            )
            pdf.ln(2)
    return bytes(pdf.output())


def make_docx(title: str, body: str) -> bytes:
    """A small real DOCX of `body`."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    for paragraph in body.split("\n"):
        if paragraph.strip():
            document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


@dataclass
class DemoResult:
    logins: list[DemoLogin]
    applications: int


async def ensure_demo_staff(session: AsyncSession) -> tuple[list[DemoLogin], dict[str, User]]:
    """Create the demo staff, or give them fresh passwords; return the logins to print."""
    logins, users = [], {}
    for email, name, roles in DEMO_STAFF:
        password = generate_password()
        user = (await session.scalars(select(User).where(col(User.email) == email))).first()
        if user is None:
            user = User(
                email=email,
                name=name,
                password_hash="",
                is_admin="admin" in roles,
                is_editor="editor" in roles,
                is_fact_checker="fact_checker" in roles,
                is_finance="finance" in roles,
            )
        user.password_hash = hash_password(password)
        user.is_active = True
        session.add(user)
        await session.flush()
        logins.append(DemoLogin(name.removeprefix("Demo ").lower(), email, password))
        users[roles[-1] if len(roles) == 1 else "admin"] = user
    return logins, users


async def load_demo(session: AsyncSession, *, settings: Settings, now: datetime | None = None) -> DemoResult:
    """Load the demo applications once, in every state; the staff passwords are renewed on every run."""
    logins, users = await ensure_demo_staff(session)
    if await session.get(SiteSetting, DEMO_FLAG) is not None:
        return DemoResult(logins, 0)
    now = now or utcnow()
    rng = random.Random(7)  # noqa: S311 - repeatable demo content, not security
    department_rows = await session.execute(select(col(Department.slug), col(Department.id)))
    departments = {slug: i for slug, i in department_rows.all()}
    topic_rows = await session.execute(select(col(Topic.slug), col(Topic.id)))
    topics = {slug: i for slug, i in topic_rows.all()}
    articles = {lang: news_sample(lang) for lang in SAMPLE_FILES}
    created: list[Application] = []
    for index, (name, city, country, deps, tops, lang) in enumerate(PEOPLE):
        slug = LATIN_SLUGS.get(name) or name.lower().replace(" ", ".")
        letters = LETTERS[lang]
        article = articles[lang]
        title = article.split("\n", 1)[0].strip('"').strip()
        fields = ApplicantFields(
            name=name,
            email=f"{slug}@applicant.example",
            city=city,
            country=country,
            profile_links=[f"https://portfolio.example/{slug.replace('.', '-')}"],
            departments=deps,
            topics=tops,
            motivation=str(letters["motivation"]).format(publication=settings.publication_name),
            experience=rng.choice(letters["experience"]),
            availability=rng.choice(letters["availability"]),
        )
        slots: list[SampleSlot] = []
        stored: dict[int, uploads.StoredFile] = {}
        # The PDF maker has Latin fonts only, so a Russian sample comes as DOCX or as pasted text.
        kind = index % 3 if lang == "en" else 1 + index % 2
        stem = "karabakh-call" if lang == "en" else "perm-roads"
        if kind == 0:
            data, filename = make_pdf(title, article), f"{stem}.pdf"
        elif kind == 1:
            data, filename = make_docx(title, article), f"{stem}.docx"
        else:
            data, filename = b"", ""
        if data:
            item = await uploads.store_upload(
                io.BytesIO(data),
                filename=filename,
                settings=settings,
                budget_bytes=settings.max_application_bytes,
            )
            delete_on_rollback(session, item.path)
            stored[0] = item
            slots.append(SampleSlot(index=0, title=title, file_name=filename))
        else:
            slots.append(SampleSlot(index=0, title=title, text=article))
        slots.append(
            SampleSlot(
                index=1, title=str(letters["portfolio"]), url=f"https://portfolio.example/{slug}/clips"
            )
        )
        with use_locale(lang):
            new = await create_application(
                session,
                settings=settings,
                fields=fields,
                slots=slots,
                stored=stored,
                department_ids=[i for d in deps if (i := departments.get(d)) is not None],
                topic_ids=[i for t in tops if (i := topics.get(t)) is not None],
                spam_reason=None,
                submission_key=None,
                now=now - timedelta(days=len(PEOPLE) - index, hours=rng.randint(0, 20)),
            )
        application = await session.get(Application, new.id)
        assert application is not None
        created.append(application)
    await walk_to_states(session, settings=settings, applications=created, users=users, now=now)
    session.add(SiteSetting(key=DEMO_FLAG, value=True, updated_at=now))
    await session.flush()
    return DemoResult(logins, len(created))
