"""The PDF receipt of a submitted application (fpdf2, see docs/adr on the PDF library).

Built from the applicant's view of the case (``CaseRead``): what was submitted, when,
under which reference, with the files by name – nothing of the office's work. The font
(DejaVu Sans, shipped in ``fonts/``) covers the names people actually have, not only
Latin-1; fpdf2 embeds only the glyphs used.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from klug.citizen.applications.schemas import CaseRead
from klug.citizen.services.catalogue import Service
from klug.core.i18n import current_language, format_datetime, gettext

FONTS = Path(__file__).parent / "fonts"


def _line(pdf: FPDF, width: float, height: float, text: str) -> None:
    """A paragraph, then back to the left margin on the next line."""
    pdf.multi_cell(width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_receipt(case: CaseRead, service: Service) -> bytes:
    """The receipt as PDF bytes, in the current language."""
    language = current_language()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_lang(language)
    pdf.set_title(gettext("Receipt %(reference)s") % {"reference": case.reference})
    pdf.set_author("Stadt Kaiserslautern")
    pdf.set_creator("klug")
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("DejaVu", "", 10)
    _line(pdf, width, 5, gettext("City of Kaiserslautern – klug"))
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 16)
    _line(pdf, width, 8, gettext("Receipt of your application"))
    pdf.set_font("DejaVu", "", 11)
    pdf.ln(2)
    facts = [
        (gettext("Service"), service.title.get(language)),
        (gettext("Reference"), case.reference),
        (gettext("Submitted"), format_datetime(case.submitted_at, "long")),
        (gettext("Responsible office"), service.office.name.get(language)),
    ]
    if case.due_at is not None:
        facts.append((gettext("Processing target"), format_datetime(case.due_at, "medium")))
    for label, value in facts:
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(50, 6, label)
        pdf.set_font("DejaVu", "", 11)
        _line(pdf, width - 50, 6, value)
    for section in case.sections:
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 12)
        _line(pdf, width, 7, section.title)
        for answer in section.answers:
            pdf.set_font("DejaVu", "B", 10)
            _line(pdf, width, 5, answer.label)
            pdf.set_font("DejaVu", "", 10)
            text = answer.text
            if answer.attachment is not None:
                text = gettext("File: %(name)s") % {"name": answer.text}
            _line(pdf, width, 5, text)
            pdf.ln(1)
    pdf.ln(6)
    pdf.set_font("DejaVu", "", 9)
    _line(
        pdf,
        width,
        5,
        gettext(
            "Keep this receipt. You can follow the status of your application and "
            "write to the office under “My applications” in your klug account."
        ),
    )
    return bytes(pdf.output())
