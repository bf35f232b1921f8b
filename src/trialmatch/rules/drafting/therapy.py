"""Prior and current therapy: drugs and drug classes (ever, "no prior", "within N weeks", "concurrent"), lines of
therapy ("no more than N prior lines of chemotherapy for metastatic disease") and surgery or radiotherapy within
a window."""

from __future__ import annotations

import re

from trialmatch.rules.ast import All, Any, Compare, Condition, Derived, Has, Quantity, Timing, Unknown
from trialmatch.rules.drafting.patterns import (
    COMPARATOR,
    COUNT,
    Finding,
    count,
    excepted,
    operator,
    polarity,
    span_of,
    window,
)
from trialmatch.trials.model import CriterionType

DRUGS: tuple[tuple[str, str], ...] = (
    (r"(?:ado-)?trastuzumab[\s-]+emtansine|T-?DM-?1|Kadcyla", "drug.trastuzumab_emtansine"),
    (r"trastuzumab[\s-]+deruxtecan|T-?DXd|DS-8201a?|Enhertu", "drug.trastuzumab_deruxtecan"),
    (r"(?<!Zr-)(?<!Zr )trastuzumab|Herceptin", "drug.trastuzumab"),
    (r"pertuzumab|Perjeta", "drug.pertuzumab"),
    (r"lapatinib", "drug.lapatinib"),
    (r"tucatinib", "drug.tucatinib"),
    (r"neratinib", "drug.neratinib"),
    (r"palbociclib", "drug.palbociclib"),
    (r"ribociclib", "drug.ribociclib"),
    (r"abemaciclib", "drug.abemaciclib"),
    (r"paclitaxel", "drug.paclitaxel"),
    (r"docetaxel", "drug.docetaxel"),
    (r"doxorubicin", "drug.doxorubicin"),
    (r"epirubicin", "drug.epirubicin"),
    (r"cyclophosphamide", "drug.cyclophosphamide"),
    (r"capecitabine", "drug.capecitabine"),
    (r"vinorelbine", "drug.vinorelbine"),
    (r"carboplatin", "drug.carboplatin"),
    (r"cisplatin", "drug.cisplatin"),
    (r"tamoxifen", "drug.tamoxifen"),
    (r"letrozole", "drug.letrozole"),
    (r"anastrozole", "drug.anastrozole"),
    (r"exemestane", "drug.exemestane"),
    (r"fulvestrant", "drug.fulvestrant"),
    (
        r"CDK\s*4/6\s+inhibitors?|CDK\s+inhibitors?|cyclin-dependent\s+kinase\s+4/6\s+inhibitors?",
        "drug.class.cdk46_inhibitor",
    ),
    (
        r"anti-?HER-?2\s+(?:targeted\s+)?(?:therap(?:y|ies)|agents?|treatment)|HER-?2[\s-]+(?:directed|targeted)\s+therap(?:y|ies)",
        "drug.class.anti_her2",
    ),
    (r"anthracyclines?", "drug.class.anthracycline"),
    (r"taxanes?", "drug.class.taxane"),
    (r"(?:cytotoxic\s+)?chemotherap(?:y|ies)", "drug.class.chemotherapy"),
    (r"(?:endocrine|hormonal|hormone)\s+therap(?:y|ies)|aromatase\s+inhibitors?", "drug.class.endocrine"),
    (r"(?:systemic\s+)?(?:cortico)?steroids?", "drug.class.corticosteroid"),
    (r"anti-?\s*coagula(?:nts?|tion)(?:\s+therapy)?", "drug.class.anticoagulant"),
    (r"investigational\s+(?:agents?|products?|drugs?|therap(?:y|ies))", "drug.class.investigational"),
    (
        r"(?:anti-?neoplastic|anti-?cancer|systemic\s+anti-?cancer)\s+(?:therap(?:y|ies)|agents?|treatment)",
        "drug.class.anticancer",
    ),
)
_DRUG = re.compile("|".join(f"(?P<d{i}>\\b(?:{p})\\b)" for i, (p, _) in enumerate(DRUGS)), re.I)
_EXAMPLES = re.compile(r"\s*\((?:including|such\s+as|e\.g\.)[^)]*\)", re.I)
_CURRENT = re.compile(
    r"\b(?:concurrent(?:ly)?|concomitant(?:ly)?|currently|ongoing|receiving|under|not\s+allowed\s+on\s+study)\b", re.I
)
_METASTATIC = re.compile(
    r"\s*(?:in|for)\s+(?:the\s+)?(?:metastatic|advanced)(?:\s+(?:disease|breast\s+cancer))?(?:\s+setting)?", re.I
)
_LINES = re.compile(
    rf"(?P<op>{COMPARATOR})\s*(?P<n>{COUNT})\s+(?:prior\s+|previous\s+)?(?:lines?|regimens?)\s+of\s+"
    r"(?P<what>chemotherapy|(?:systemic\s+)?(?:therapy|treatment))"
    r"(?:\s+(?:for|in)\s+(?:the\s+)?(?:metastatic|advanced)(?:\s+disease)?(?:\s+setting)?)?",
    re.I,
)
_PROCEDURES = re.compile(
    r"\b(?P<what>major\s+surgery|(?:surgery|surgical\s+procedure)|(?:whole[\s-]+)?brain\s+radio(?:therapy|tion)"
    r"|radio(?:therapy|tion\s+therapy))\b",
    re.I,
)


_PURPOSE = re.compile(r"\s*(?:for\s+(?:the\s+)?(?:control|treatment)\s+of|to\s+control)\s+[\w\s-]*?symptoms", re.I)


_FROM_DIAGNOSIS = re.compile(r"\s*(?:prior\s+to|before)\s+(?:the\s+)?diagnosis", re.I)


def _window_span(text: str, end: int) -> tuple[int, int] | None:
    found = re.match(r"[\s,]*(?:within|in)\s+(?:the\s+)?(?:last|past)?\s*\d+\s*\w+", text[end:], re.I)
    return (end, end + found.end()) if found else None


def _concept(match: re.Match[str]) -> str:
    return next(DRUGS[int(k[1:])][1] for k, v in match.groupdict().items() if v is not None)


def _drugs(text: str) -> list[Finding]:
    """Runs of drug names joined by "or", "," or "/" share one timing and setting."""
    out: list[Finding] = []
    matches = list(_DRUG.finditer(text))
    runs: list[list[re.Match[str]]] = []
    for match in matches:
        if runs and re.fullmatch(r"[\s,/]*(?:or|and|and/or)?[\s,/]*", text[runs[-1][-1].end() : match.start()], re.I):
            runs[-1].append(match)
        else:
            runs.append([match])
    for run in runs:
        start, end = run[0].start(), run[-1].end()
        if examples := _EXAMPLES.match(text, end):
            end = examples.end()
        setting = _METASTATIC.match(text, end)
        end = setting.end() if setting else end
        clause_text = text[max(0, start - 60) : min(len(text), end + 70)]
        within = window(text[end : end + 60]) or window(text[max(0, start - 60) : start])
        timing = (
            Timing(mode="within", duration=within)
            if within
            else Timing(mode="active")
            if _CURRENT.search(clause_text)
            else Timing()
        )
        items = [
            Has(domain="drug", concept=_concept(m), timing=timing, setting="metastatic" if setting else None)
            for m in run
        ]
        rule: Condition = items[0] if len(items) == 1 else Any(items=tuple(items))
        key = items[0].concept.split(".")[-1]
        kept = None if excepted(text, start) else polarity(text, start, rule)
        joins = re.search(r"\bwith\s+(?:the\s+)?(?:previous|prior)\s+$", text[max(0, start - 30) : start], re.I)
        purpose = _PURPOSE.match(text, end)
        if purpose and kept is not None:
            ask = Unknown(reason=f"whether the drug is taken {' '.join(purpose.group(0).split())}")
            kept, end = All(items=(kept, ask)), purpose.end()
        window_span = _window_span(text, end) if within else None
        if window_span and kept is not None and _FROM_DIAGNOSIS.match(text, window_span[1]):
            kept = All(items=(kept, Unknown(reason="the timing, counted from the diagnosis rather than from today")))
        spans = (window_span,) if window_span else ()
        out.append(Finding("therapy", (start, end), kept, key, joins_all=bool(joins), extra_spans=spans))
    return out


def _lines(text: str) -> list[Finding]:
    out = []
    for match in _LINES.finditer(text):
        args = [("setting", "metastatic")]
        if match.group("what").lower() == "chemotherapy":
            args.append(("drug", "drug.class.chemotherapy"))
        rule = Compare(
            value=Derived(name="lines", args=tuple(args)),
            op=operator(match.group("op")),
            threshold=Quantity(value=count(match.group("n"))),
        )
        out.append(Finding("therapy", span_of(match), rule, "lines"))
    return out


def _procedures(text: str) -> list[Finding]:
    out = []
    for match in _PROCEDURES.finditer(text):
        what = match.group("what").lower()
        concept = (
            "procedure.major_surgery"
            if what.startswith("major")
            else "procedure.brain_radiotherapy"
            if "brain" in what
            else "procedure.radiotherapy"
            if "radi" in what
            else "procedure.surgery"
        )
        following = re.match(
            r"[\s,]*(?:within|in\s+the\s+(?:last|past))[^.;]{0,12}?\d+\s*\w+", text[match.end() :], re.I
        )
        within = window(following.group(0)) if following else None
        if within is None:
            continue
        rule = Has(domain="procedure", concept=concept, timing=Timing(mode="within", duration=within))
        assert following is not None
        out.append(
            Finding(
                "therapy",
                (match.start(), match.end() + following.end()),
                polarity(text, match.start(), rule),
                concept.split(".")[-1],
            )
        )
    return out


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """Drug exposure, lines of therapy, and recent surgery or radiotherapy."""
    return _lines(text) + _drugs(text) + _procedures(text)
