"""The application form: field limits, sample slots and the messages shown at each field."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from litestar.datastructures import FormMultiDict, UploadFile
from pydantic import BaseModel, ValidationError, field_validator

from app.core.forms import CONTROL, LINE_BREAK, clean_text
from app.core.i18n import N_, ngettext
from app.core.i18n import gettext as _
from app.core.text import strip_bidi
from app.settings import Settings

PHONE = re.compile(r"^\+?[0-9 ()./-]{5,40}$")
SAMPLE_PARTS = ("title", "url", "text", "file")
SAMPLE_FIELD = re.compile(r"^sample-\d+-(?:title|url|text|file)$")

LIMITS = {
    "name": 200,
    "email": 254,
    "phone": 40,
    "city": 100,
    "country": 100,
    "motivation": 5000,
    "experience": 5000,
    "availability": 500,
    "link": 2000,
    "sample_title": 200,
    "sample_text": 50_000,
}
EMAIL_MESSAGE = N_("Enter an email address like name@example.com.")
MAX_PROFILE_LINKS = 3
MIN_MOTIVATION = 50


def check_url(value: str) -> str:
    """Accept only absolute http(s) URLs with a host."""
    value = value.strip()
    if CONTROL.search(value) or LINE_BREAK.search(value) or " " in value:
        raise ValueError(_("Enter a web address without spaces or line breaks."))
    if len(value) > LIMITS["link"]:
        raise ValueError(
            ngettext(
                "Web addresses can be at most %(num)s character.",
                "Web addresses can be at most %(num)s characters.",
                LIMITS["link"],
            )
        )
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(_("Enter a full web address starting with http:// or https://."))
    return value


def _single_line(value: str, label: str, limit: int) -> str:
    value = unicodedata.normalize("NFC", strip_bidi(value).strip())
    if LINE_BREAK.search(value) or CONTROL.search(value):
        raise ValueError(_("%(field)s must be a single line of text.", field=label))
    if len(value) > limit:
        raise ValueError(
            ngettext(
                "%(field)s can be at most %(num)s character.",
                "%(field)s can be at most %(num)s characters.",
                limit,
                field=label,
            )
        )
    return value


def _text(value: str, label: str, limit: int) -> str:
    value = clean_text(value)
    if len(value) > limit:
        raise ValueError(
            ngettext(
                "%(field)s can be at most %(num)s character (now %(now)s).",
                "%(field)s can be at most %(num)s characters (now %(now)s).",
                limit,
                field=label,
                now=len(value),
            )
        )
    return value


# The text fields as the form shows them, top to bottom.
PAGE_ORDER = (
    "name",
    "email",
    "phone",
    "city",
    "country",
    "profile_links",
    "departments",
    "topics",
    "motivation",
    "experience",
    "availability",
)


class ApplicantFields(BaseModel):
    """The text fields of the form, validated; files and links are checked in `SampleSlot`."""

    name: str
    email: str
    phone: str | None = None
    city: str = ""
    country: str
    profile_links: list[str] = []
    departments: list[str]
    topics: list[str]
    motivation: str
    experience: str
    availability: str

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = _single_line(v, _("Your name"), LIMITS["name"])
        if not v:
            raise ValueError(_("Enter your name."))
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError(_("Enter your email address."))
        if LINE_BREAK.search(v) or CONTROL.search(v) or len(v) > LIMITS["email"]:
            raise ValueError(_(EMAIL_MESSAGE))
        try:
            return validate_email(v, check_deliverability=False).normalized
        except EmailNotValidError:
            raise ValueError(_(EMAIL_MESSAGE)) from None

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v: Any) -> str | None:
        if v is None or not str(v).strip():
            return None
        phone = _single_line(str(v), _("Phone"), LIMITS["phone"])
        if not PHONE.match(phone):
            raise ValueError(_("Enter a phone number using digits, spaces and + ( ) - only."))
        return phone

    @field_validator("city")
    @classmethod
    def _city(cls, v: str) -> str:
        return _single_line(v, _("City"), LIMITS["city"])

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        v = _single_line(v, _("Country"), LIMITS["country"])
        if not v:
            raise ValueError(_("Enter the country you live in."))
        return v

    @field_validator("profile_links")
    @classmethod
    def _links(cls, v: list[str]) -> list[str]:
        links = [link.strip() for link in v if link.strip()]
        if len(links) > MAX_PROFILE_LINKS:
            raise ValueError(
                ngettext(
                    "Give at most %(num)s profile link.",
                    "Give at most %(num)s profile links.",
                    MAX_PROFILE_LINKS,
                )
            )
        return [check_url(link) for link in links]

    @field_validator("departments")
    @classmethod
    def _departments(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError(_("Choose at least one department."))
        return list(dict.fromkeys(v))

    @field_validator("topics")
    @classmethod
    def _topics(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError(_("Choose at least one topic."))
        return list(dict.fromkeys(v))

    @field_validator("motivation")
    @classmethod
    def _motivation(cls, v: str) -> str:
        v = _text(v, _("The cover letter"), LIMITS["motivation"])
        if len(v) < MIN_MOTIVATION:
            raise ValueError(
                ngettext(
                    "Tell us a little more: at least %(num)s character.",
                    "Tell us a little more: at least %(num)s characters.",
                    MIN_MOTIVATION,
                )
            )
        return v

    @field_validator("experience")
    @classmethod
    def _experience(cls, v: str) -> str:
        v = _text(v, _("Experience"), LIMITS["experience"])
        if not v:
            raise ValueError(_("Describe your experience, even briefly."))
        return v

    @field_validator("availability")
    @classmethod
    def _availability(cls, v: str) -> str:
        v = _text(v, _("Availability"), LIMITS["availability"])
        if not v:
            raise ValueError(_("Tell us when and how much you can write."))
        return v


@dataclass
class SampleSlot:
    """One work-sample slot of the form: exactly one of a file, a link or pasted text."""

    index: int
    title: str = ""
    url: str = ""
    text: str = ""
    upload: UploadFile | None = None
    file_name: str = ""

    def __post_init__(self) -> None:
        if self.upload is not None and not self.file_name:
            self.file_name = self.upload.filename

    @property
    def is_empty(self) -> bool:
        return not (self.title.strip() or self.url.strip() or self.text.strip() or self.file_name)

    @property
    def kind(self) -> str | None:
        given = [
            kind
            for kind, on in (
                ("file", self.file_name),
                ("link", self.url.strip()),
                ("text", self.text.strip()),
            )
            if on
        ]
        return given[0] if len(given) == 1 else None


@dataclass
class ParsedForm:
    """What the form sent: raw values for re-rendering, validated fields, slots and errors by field."""

    values: dict[str, Any]
    slots: list[SampleSlot]
    fields: ApplicantFields | None = None
    errors: dict[str, str] = field(default_factory=dict)
    honeypot: str = ""
    form_token: str = ""
    consent: bool = False


def _upload_or_none(value: Any) -> UploadFile | None:
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


def parse_form(form: FormMultiDict, settings: Settings) -> ParsedForm:
    """Read every field of the posted form and validate what can be checked without the database."""

    def getone(key: str) -> str:
        value = form.get(key)
        return value if isinstance(value, str) else ""

    values: dict[str, Any] = {
        key: getone(key)
        for key in ("name", "email", "phone", "city", "country", "motivation", "experience", "availability")
    }
    values["profile_links"] = [str(v) for v in form.getall("profile_links", []) if isinstance(v, str)]
    values["departments"] = [str(v) for v in form.getall("departments", []) if isinstance(v, str)]
    values["topics"] = [str(v) for v in form.getall("topics", []) if isinstance(v, str)]
    slots = [
        SampleSlot(
            index=i,
            title=getone(f"sample-{i}-title"),
            url=getone(f"sample-{i}-url"),
            text=getone(f"sample-{i}-text"),
            upload=_upload_or_none(form.get(f"sample-{i}-file")),
        )
        for i in range(settings.max_samples)
    ]
    parsed = ParsedForm(
        values=values,
        slots=slots,
        honeypot=getone("website"),
        form_token=getone("form_token"),
        consent=getone("consent") == "yes",
    )
    try:
        parsed.fields = ApplicantFields.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            loc = str(err["loc"][0]) if err["loc"] else "form"
            parsed.errors.setdefault(loc, str(err["msg"]).removeprefix("Value error, "))
    if not parsed.consent:
        parsed.errors["consent"] = _(
            "Please agree to the processing of your data so that we can consider you."
        )
    _check_slots(parsed)
    known = {f"sample-{i}-{part}" for i in range(settings.max_samples) for part in SAMPLE_PARTS}
    if any(
        SAMPLE_FIELD.match(key) and key not in known and _filled(form.getall(key, []))
        for key in set(form.keys())
    ):
        most = settings.max_samples
        parsed.errors["samples"] = ngettext(
            "You can send at most %(num)s work sample: choose your best one and send the form again.",
            "You can send at most %(num)s work samples: choose your best %(num)s and send the form again.",
            most,
        )
    return parsed


def _filled(values: list[Any]) -> bool:
    return any(_upload_or_none(v) is not None or (isinstance(v, str) and v.strip()) for v in values)


def in_page_order(errors: dict[str, str], max_samples: int) -> dict[str, str]:
    """The errors in the order their fields appear on the form, for the summary at the top."""
    order = [
        "form",
        *PAGE_ORDER,
        "samples",
        *(f"sample-{i}" for i in range(max_samples)),
        "consent",
    ]
    rank = {key: i for i, key in enumerate(order)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(order))))


def _check_slots(parsed: ParsedForm) -> None:
    used = [slot for slot in parsed.slots if not slot.is_empty]
    if not used:
        parsed.errors["samples"] = _("Add at least one work sample: a file, a link or pasted text.")
    for slot in used:
        key = f"sample-{slot.index}"
        if slot.kind is None:
            if slot.file_name or slot.url.strip() or slot.text.strip():
                parsed.errors[key] = _("Give only one of a file, a link or pasted text for each sample.")
            else:
                parsed.errors[key] = _("Attach a file, give a link or paste the text of this sample.")
            continue
        try:
            slot.title = _single_line(slot.title, _("The title"), LIMITS["sample_title"])
        except ValueError as exc:
            parsed.errors[key] = str(exc)
            continue
        if not slot.title:
            parsed.errors[key] = _("Give this sample a title.")
        elif slot.kind == "link":
            try:
                slot.url = check_url(slot.url)
            except ValueError as exc:
                parsed.errors[key] = str(exc)
        elif slot.kind == "text":
            try:
                slot.text = _text(slot.text, _("Pasted text"), LIMITS["sample_text"])
            except ValueError as exc:
                parsed.errors[key] = str(exc)
