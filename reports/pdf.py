"""Print an HTML report to PDF with headless Chromium through Playwright.

Debian's Chromium (settings.CHROMIUM_PATH), never a downloaded browser. The page says when Mermaid
and Plotly have drawn everything by setting `window.reportReady`; the table of contents gets its page
numbers from a first print (where each section's heading landed, read back with pdftotext), then the
report is printed again. Every failure is a PdfError whose message says what to do.
"""
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
MARGIN = {"top": "18mm", "bottom": "16mm", "left": "14mm", "right": "14mm"}
PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


class PdfError(Exception):
    """The report could not be printed; the message says why and what to do."""


@dataclass
class Printed:
    content: bytes
    pages: int
    seconds: float
    problems: list[str] = field(default_factory=list)  # what the page could not draw (a diagram, a chart)


def pdf_print(*, html_file: Path, chromium: str, seconds: float, header: str, footer: str,
              on_step: Callable[[str], None] = lambda step: None) -> Printed:
    """The PDF of one report page, within `seconds` in all."""
    if not Path(chromium).exists():
        raise PdfError(f"Chromium was not found at {chromium}: install Debian's chromium package "
                       "(make run does) or point CHROMIUM_PATH at it.")
    started = time.monotonic()
    try:
        with sync_playwright() as playwright:
            printed = _print(playwright, html_file=html_file, chromium=chromium, deadline=started + seconds,
                             header=header, footer=footer, on_step=on_step)
    except PlaywrightTimeout:
        raise PdfError(f"Rendering took longer than {seconds:.0f} s and was stopped. A smaller scope (one "
                       "team, or one service) renders faster; REPORT_RENDER_SECONDS raises the limit.") from None
    except PlaywrightError as exc:
        raise PdfError(f"Chromium failed: {str(exc).strip().splitlines()[0][:300]}") from None
    printed.seconds = time.monotonic() - started
    return printed


def _left(deadline: float) -> float:
    """Milliseconds left before the deadline (Playwright's unit); at least 1."""
    return max(1.0, (deadline - time.monotonic()) * 1000)


def _print(playwright, *, html_file: Path, chromium: str, deadline: float, header: str, footer: str,
           on_step: Callable[[str], None]) -> Printed:
    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, timeout=_left(deadline))
    try:
        page = browser.new_page()
        on_step("Drawing the diagrams and charts")
        page.goto(html_file.as_uri(), wait_until="load", timeout=_left(deadline))
        page.wait_for_function("window.reportReady === true", timeout=_left(deadline))
        problems = page.evaluate("window.reportProblems || []")
        page.emulate_media(media="print")
        options = {"format": "A4", "print_background": True, "display_header_footer": True,
                   "header_template": header, "footer_template": footer, "margin": MARGIN, "outline": True,
                   "tagged": True}
        on_step("Laying out the pages")
        first = page.pdf(**options)
        on_step("Numbering the contents")
        numbered = _contents_numbered(page, first)
        content = page.pdf(**options) if numbered else first
    finally:
        browser.close()
    return Printed(content=content, pages=pages_of(content), seconds=0.0, problems=problems)


def pages_of(content: bytes) -> int:
    return len(PAGE.findall(content))


def _contents_numbered(page, pdf: bytes) -> bool:
    """Write each section's page number into the table of contents; False when pdftotext is missing."""
    texts = pdf_page_texts(pdf)
    if texts is None:
        return False
    titles = page.evaluate("Array.from(document.querySelectorAll('[data-toc-title]'), e => e.dataset.tocTitle)")
    numbers = heading_pages(texts, titles)
    page.evaluate("numbers => document.querySelectorAll('[data-toc-page]').forEach((e, i) => "
                  "{ e.textContent = numbers[i] || ''; })", numbers)
    return True


def pdf_page_texts(pdf: bytes) -> list[str] | None:
    """The text of each page (pdftotext, from poppler-utils), or None without it."""
    if shutil.which("pdftotext") is None:
        return None
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, timeout=60)
    return done.stdout.decode("utf-8", "replace").split("\f") if done.returncode == 0 else None


def heading_pages(texts: list[str], titles: list[str]) -> list[str]:
    """For each section title, the first page (1-based) after the contents on which it stands on a line
    of its own; "" when it is not found. Sections come in order, so each search starts where the last
    one was found."""
    numbers, start = [], _contents_page(texts, titles) + 1
    for title in titles:
        found = next((i for i in range(start, len(texts)) if _stands_alone(texts[i], title)), None)
        numbers.append(str(found + 1) if found is not None else "")
        start = found if found is not None else start
    return numbers


def _contents_page(texts: list[str], titles: list[str]) -> int:
    """The page that lists the first two titles (the contents), or -1."""
    return next((i for i, text in enumerate(texts) if all(_stands_alone(text, t) or t in text for t in titles[:2])),
                -1)


def _stands_alone(text: str, title: str) -> bool:
    return any(line.strip() == title for line in text.splitlines())
