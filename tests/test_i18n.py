"""Every user-visible string goes through gettext, and every catalogue is complete."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))

# Text that needs no translation: symbols, numbers, the product name, separators.
NEUTRAL = re.compile(
    r"^[\s\d\W]*$"  # symbols, numbers, separators
    r"|^[\s\W]*(aircop[\s\W]*)+$"  # the product's name
    r'|^\s*[\w-]+="[^"]*"[\s>]*$'  # the rest of an attribute cut by a template tag
    r"|^\s*Authorization: Bearer\s*$",  # an HTTP header, not prose
    re.UNICODE,
)
TAG = re.compile(r"<[^>]*>", re.DOTALL)
ATTRIBUTE = re.compile(r'\b(?:title|alt|placeholder|aria-label)="([^"{]*[A-Za-z][^"{]*)"')


def catalogue(code: str) -> polib.POFile:
    path = ROOT / "locale" / code / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"missing catalogue {path}"
    return polib.pofile(str(path))


@pytest.mark.parametrize("code", TRANSLATED)
def test_catalogue_has_no_untranslated_or_fuzzy_entry(code):
    po = catalogue(code)
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{code}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{code}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"
    assert len(po.translated_entries()) > 100


@pytest.mark.parametrize("code", TRANSLATED)
def test_catalogue_keeps_the_placeholders_of_each_string(code):
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\{ ?\w+ ?\}\}|%[sd]")
    for entry in catalogue(code).translated_entries():
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        expected = set(placeholder.findall(sources[-1])) | set(placeholder.findall(sources[0]))
        targets = [entry.msgstr] if entry.msgstr else list(entry.msgstr_plural.values())
        for target in targets:
            assert set(placeholder.findall(target)) <= expected, (code, entry.msgid, target)
            if not entry.msgid_plural:
                assert set(placeholder.findall(target)) == expected, (code, entry.msgid, target)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext tools (msgfmt) not installed")
def test_catalogues_cover_every_string_of_the_code(tmp_path):
    """A fresh extraction finds no msgid that the committed catalogues lack."""
    work = tmp_path / "src"
    shutil.copytree(
        ROOT,
        work,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            ".local",
            "node_modules",
            "__pycache__",
            "*.mo",
            "tests",
            "bench",
            ".pytest_cache",
            ".ruff_cache",
        ),
    )
    shutil.rmtree(work / "locale")
    (work / "locale").mkdir()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "fr",
            "--no-location",
            "--ignore",
            "static/vendor/*",
        ],
        cwd=work,
        check=True,
        capture_output=True,
    )
    fresh = {e.msgid for e in polib.pofile(str(work / "locale/fr/LC_MESSAGES/django.po"))}
    committed = {e.msgid for e in catalogue("fr")}
    missing = sorted(fresh - committed)
    assert not missing, f"run `make messages`: {len(missing)} new strings, e.g. {missing[:5]}"


def visible_text_outside_gettext(source: str) -> list[str]:
    """Literal text a reader would see that no {% translate %} or {% blocktranslate %} wraps."""
    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", "", source, flags=re.S)
    source = re.sub(
        r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", "", source, flags=re.S
    )
    source = re.sub(r"{%.*?%}|{{.*?}}", "", source, flags=re.S)
    leaks = ATTRIBUTE.findall(source)
    source = re.sub(r"<(script|style)\b.*?</\1>", "", source, flags=re.S | re.I)
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", TAG.sub("\n", source))
    leaks += [line.strip() for line in text.split("\n") if not NEUTRAL.match(line)]
    return leaks


def test_the_template_check_finds_a_leak():
    assert visible_text_outside_gettext("<p>Inbox</p>") == ["Inbox"]
    assert visible_text_outside_gettext('<a title="Open">{% translate "x" %}</a>') == ["Open"]
    assert visible_text_outside_gettext("<p>{% translate 'Inbox' %} · 3</p>") == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_visible_text_outside_gettext(template):
    leaks = visible_text_outside_gettext(template.read_text())
    assert not leaks, f"text outside {{% translate %}}: {leaks}"
