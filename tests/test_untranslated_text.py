"""No template shows English outside the message catalogs.

Each template's literal text (what Jinja passes through untouched, outside expressions, `{% trans %}` blocks and
comments) is read as HTML; any word in a text node or in an attribute a person sees or hears (`title`,
`aria-label`, `placeholder`, `alt`, a button's `value`) means a text that no catalog translates.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
SEEN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
WORD = re.compile(r"[A-Za-z]{2,}")
# Text that reads the same in every language: names of things, not sentences.
ALLOWED = {
    "Byline",
    "Message-ID",
    "https://",
    'curl -H "Authorization: Bearer',
    "wide",
}
HOLE = "\x00"
# Pieces of a tag that a macro or a block writes into another tag: markup, not text.
MARKUP = re.compile(r'^<|[\w-]+="|^"?>$')


def _literal_html(source: str) -> str:
    """The template's own markup: translated blocks and comments dropped, tags dropped (their bodies kept, so
    both branches of an `if` are read), each expression replaced by a placeholder character."""
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    source = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", HOLE, source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", "", source, flags=re.S)
    return re.sub(r"\{\{.*?\}\}", HOLE, source, flags=re.S)


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            shown_value = (
                tag == "input" and name == "value" and dict(attrs).get("type") in ("submit", "button")
            )
            if value and (name in SEEN_ATTRIBUTES or shown_value):
                self._check(value, f"{tag}[{name}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._check(data, "text")

    def _check(self, text: str, where: str) -> None:
        for piece in text.split(HOLE):
            piece = piece.strip()
            if piece and piece not in ALLOWED and WORD.search(piece) and not MARKUP.search(piece):
                self.found.append(f"{where}: {piece!r}")


PAGES = sorted(p for p in TEMPLATES.rglob("*.html") if "email" not in p.parts)
EMAILS = sorted(TEMPLATES.glob("email/*"))


@pytest.mark.parametrize("template", PAGES + EMAILS, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_shows_no_text_outside_the_catalogs(template: Path):
    markup = _literal_html(template.read_text(encoding="utf-8"))
    if template.suffix == ".txt":
        found = [
            line.strip() for line in markup.split(HOLE) if WORD.search(line) and line.strip() not in ALLOWED
        ]
    else:
        finder = _Finder()
        finder.feed(markup)
        finder.close()
        found = finder.found
    assert not found, f"{template.relative_to(TEMPLATES)} shows text no catalog translates: {found}"


# --- Python ----------------------------------------------------------------------------------------------

APP = ROOT / "app"
# Errors whose message a person reads on a page (the page translates a catalog text when it shows it).
SHOWN_ERRORS = {
    "DomainError",
    "NotFound",
    "Forbidden",
    "Conflict",
    "Invalid",
    "TooLarge",
    "RateLimited",
    "StaleForm",
    "LoginFailed",
    "InvitationGone",
    "UploadRejected",
}
# Modules that speak only to machines or operators: the JSON API's own handlers, delivery and rendering errors
# kept as an outbox row's last error, the command line's backups.
MACHINE_MODULES = {
    "api/routes.py",
    "api/strict.py",
    "api/delivery.py",
    "review/api.py",
    "factcheck/api.py",
    "mail/api.py",
    "mail/render.py",
    "ops/backup.py",
}
CATALOG_CALLS = {"_", "N_", "gettext", "ngettext", "pgettext", "lazy_gettext", "_l"}
SENTENCE = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")


def _is_text(node: ast.expr) -> bool:
    """A literal sentence, or an f-string, as opposed to a catalog call or a name."""
    if isinstance(node, ast.JoinedStr):
        return True
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(SENTENCE.search(node.value))
    )


def _untranslated(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if name in SHOWN_ERRORS:
                given = node.args[:2] + [k.value for k in node.keywords if k.arg in ("message", "errors")]
                for arg in given:
                    values = arg.values if isinstance(arg, ast.Dict) else [arg]
                    found += [(node.lineno, ast.unparse(v)) for v in values if v is not None and _is_text(v)]
        elif isinstance(node, ast.Assign) and _is_text(node.value):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and ast.unparse(target.value) == "errors":
                    found.append((node.lineno, ast.unparse(node.value)))
    return found


@pytest.mark.parametrize(
    "module",
    sorted(p for p in APP.rglob("*.py") if p.relative_to(APP).as_posix() not in MACHINE_MODULES),
    ids=lambda p: p.relative_to(APP).as_posix(),
)
def test_module_shows_no_error_text_outside_the_catalogs(module: Path):
    """A form error or a page's error message is a catalog text, never a bare English sentence."""
    found = _untranslated(ast.parse(module.read_text(encoding="utf-8")))
    assert not found, f"{module.relative_to(APP)} shows text no catalog translates: {found}"
