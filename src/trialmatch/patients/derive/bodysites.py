"""Anatomical site of a metastasis or lesion, and which sites count as visceral.

Only SNOMED CT body-structure codes we are sure of are listed; other codes fall back to keywords in the
code display or the free-text location. Visceral follows the breast-cancer trial convention: organ
metastases of liver, lung, pleura, peritoneum, adrenal gland, pancreas, kidney or spleen. Brain and
leptomeninges (CNS) are not counted as visceral because trials handle CNS disease by its own criteria;
bone, lymph nodes, skin, chest wall and breast are not visceral.
"""

from __future__ import annotations

from collections.abc import Iterable

from trialmatch.patients.model import Coding

SNOMED = "http://snomed.info/sct"

SITE_CODES: dict[str, str] = {
    "10200004": "liver",
    "39607008": "lung",
    "3120008": "pleura",
    "15425007": "peritoneum",
    "23451007": "adrenal",
    "15776009": "pancreas",
    "64033007": "kidney",
    "78961009": "spleen",
    "12738006": "brain",
    "272673000": "bone",
    "59441001": "lymph_node",
    "68171009": "lymph_node",
    "39937001": "skin",
    "78904004": "chest_wall",
    "76752008": "breast",
}

# Keyword → site, checked in order (more specific words first).
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("lymph", "lymph_node"),
    ("node", "lymph_node"),
    ("leptomening", "leptomeningeal"),
    ("liver", "liver"),
    ("hepatic", "liver"),
    ("pleura", "pleura"),
    ("lung", "lung"),
    ("pulmonary", "lung"),
    ("periton", "peritoneum"),
    ("adrenal", "adrenal"),
    ("pancrea", "pancreas"),
    ("kidney", "kidney"),
    ("renal", "kidney"),
    ("spleen", "spleen"),
    ("brain", "brain"),
    ("cerebr", "brain"),
    ("bone", "bone"),
    ("vertebra", "bone"),
    ("skin", "skin"),
    ("chest wall", "chest_wall"),
    ("breast", "breast"),
)

VISCERAL = frozenset({"liver", "lung", "pleura", "peritoneum", "adrenal", "pancreas", "kidney", "spleen"})

# Metastasis concepts (condition.metastasis.<site>) name their site directly.
METASTASIS_SITES = ("brain", "bone", "liver", "lung", "lymph_node", "chest_wall", "skin", "leptomeningeal")


def site_of(codes: Iterable[Coding], text: str | None = None) -> str | None:
    """The site named by SNOMED body-site codes, else by keywords in their displays or ``text``."""
    codes = tuple(codes)
    for coding in codes:
        if coding.code in SITE_CODES and (coding.system in (SNOMED, "") or "snomed" in coding.system.lower()):
            return SITE_CODES[coding.code]
    words = " ".join([text or "", *(c.display or "" for c in codes)]).lower()
    return next((site for key, site in _KEYWORDS if key in words), None)
