"""Biomedical-sounding text with JATS inline markup, for titles, captions and body paragraphs.

Captions are where parsers fail (markup that glues words together, formulas that vanish,
text nested two levels deep that gets lost), so the caption builder deliberately mixes
every kind of inline content PMC articles carry. Each figure's caption also embeds its
unique marker token, so a test can prove that a caption reached the right image.
All text is ASCII or XML-escaped: the corpus never relies on DTD-defined named entities.
"""

from __future__ import annotations

import random

ORGANISMS = (
    "Mycobacterium tuberculosis",
    "Escherichia coli",
    "Saccharomyces cerevisiae",
    "Danio rerio",
    "Mus musculus",
    "Arabidopsis thaliana",
    "Plasmodium falciparum",
    "Drosophila melanogaster",
)
GENES = ("TP53", "BRCA1", "lipY", "FOXP3", "Sox2", "mTOR", "KRAS", "CDK4", "hHSL", "GAPDH")
SUBJECTS = (
    "expression levels",
    "cell viability",
    "tumour volume",
    "enzyme activity",
    "transcript abundance",
    "body weight",
    "survival probability",
    "lipolytic activity",
    "serum concentration",
    "colony counts",
    "fluorescence intensity",
    "mitochondrial density",
)
VERBS = ("increased", "decreased", "altered", "did not change", "restored", "abolished", "enhanced")
CONDITIONS = (
    "after treatment with the inhibitor",
    "in knockout animals",
    "under hypoxic conditions",
    "compared with control samples",
    "in patients with advanced disease",
    "during the first week of exposure",
    "at the highest dose tested",
    "in the presence of serum",
)
METHODS = (
    "Representative confocal micrographs",
    "Quantification by flow cytometry",
    "Western blot analysis",
    "Kaplan-Meier survival curves",
    "Hierarchical clustering of differentially expressed genes",
    "Schematic representation of the experimental design",
    "Dose-response curves",
    "Box plots of the measured values",
)
SECTION_TITLES = ("Introduction", "Materials and Methods", "Results", "Discussion", "Conclusions")
# Formulas with explicit spacing so extracted text keeps words apart ("T4 in", not "T4in").
_CHEMISTRY = (
    "total T<sub>4</sub> in males",
    "Ca<sup>2+</sup> influx",
    "NH<sub>4</sub>HCO<sub>3</sub> buffer",
)
_MATHML = (
    "<mml:math><mml:mi>p</mml:mi><mml:mo>&lt;</mml:mo><mml:mn>0.05</mml:mn></mml:math>",
    "<mml:math><mml:msup><mml:mi>R</mml:mi><mml:mn>2</mml:mn></mml:msup>"
    "<mml:mo>=</mml:mo><mml:mn>0.87</mml:mn></mml:math>",
)
_TEX = (
    r"\documentclass[12pt]{minimal}\usepackage{amsmath}\begin{document}$\alpha = 0.01$\end{document}",
    r"\documentclass[12pt]{minimal}\begin{document}$n \geq 12$\end{document}",
)


def sentence(rng: random.Random, *, markup: bool = True, refs: int = 0) -> str:
    """One declarative sentence, optionally with inline markup and a citation."""
    subject = rng.choice(SUBJECTS)
    parts = [subject[0].upper() + subject[1:], rng.choice(VERBS), rng.choice(CONDITIONS)]
    if markup:
        extra = rng.random()
        if extra < 0.3:
            parts.append(f"in <italic>{rng.choice(ORGANISMS)}</italic>")
        elif extra < 0.5:
            parts.append(f"for {rng.choice(_CHEMISTRY)}")
        elif extra < 0.65:
            parts.append(f"of <italic>{rng.choice(GENES)}</italic>")
    text = " ".join(parts)
    if refs and rng.random() < 0.4:
        n = rng.randint(1, refs)
        text += f' <xref ref-type="bibr" rid="B{n}">{n}</xref>'
    return text + "."


def title(rng: random.Random) -> str:
    """An article title (plain text: it also goes into the metadata JSON)."""
    method = rng.choice(METHODS).split(" of ")[0]
    return f"{method} reveals that {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(CONDITIONS)}"


def _marker_span(rng: random.Random, marker: str) -> str:
    """The marker as its own word, sometimes nested two levels deep in inline markup."""
    roll = rng.random()
    if roll < 0.25:
        return f"<bold><italic>{marker}</italic></bold>"
    if roll < 0.4:
        return f"<italic>{marker}</italic>"
    return marker


def _panels(rng: random.Random) -> str:
    letters = "ABCDEF"[: rng.randint(2, 4)]
    bold = rng.random() < 0.5
    items = [f"({f'<bold>{c}</bold>' if bold else c}) {sentence(rng, markup=True)}" for c in letters]
    return "<p>" + " ".join(items) + "</p>"


def _formulas(rng: random.Random) -> str:
    """Two inline formulas: MathML, then TeX (sometimes both as PMC's <alternatives>)."""
    n = rng.randint(1, 999)
    mml = rng.choice(_MATHML).replace("<mml:math>", f'<mml:math id="M{n}" display="inline">')
    tex = f'<tex-math id="T{n}">{rng.choice(_TEX)}</tex-math>'
    second = f"<alternatives>{mml}{tex}</alternatives>" if rng.random() < 0.4 else tex
    return (
        f"Significance was set at <inline-formula>{mml}</inline-formula> for all tests, "
        f"and thresholds were <inline-formula>{second}</inline-formula> throughout."
    )


def _caption_list(rng: random.Random) -> str:
    kind = rng.choice(("bullet", "order"))
    items = "".join(f"<list-item><p>{sentence(rng, markup=False)}</p></list-item>" for _ in range(3))
    return f'<p>The groups were defined as follows: <list list-type="{kind}">{items}</list></p>'


def caption_xml(
    rng: random.Random, marker: str, *, refs: int, math: bool = False, listing: bool = False
) -> str:
    """The inner XML of a ``<caption>``: optional title, paragraphs, and the marker word.

    Always at least a dozen words, so only the deliberately short captions fall below the
    default ``min_caption_words``.
    """
    parts: list[str] = []
    if rng.random() < 0.7:
        parts.append(f"<title>{rng.choice(METHODS)} {rng.choice(CONDITIONS)}.</title>")
    first = f"{sentence(rng, refs=refs)} Specimen {_marker_span(rng, marker)} is shown."
    if math:
        first += f" {_formulas(rng)}"
    parts.append(f"<p>{first}</p>")
    if rng.random() < 0.35:
        parts.append(_panels(rng))
    if listing:
        parts.append(_caption_list(rng))
    if rng.random() < 0.3:
        parts.append(f"<p><italic>*p</italic> &lt; 0.05 {rng.choice(CONDITIONS)}.</p>")
    return "".join(parts)


def short_caption_xml(marker: str) -> str:
    """A caption with two words: below the default minimum of three."""
    return f"<p>{marker} Untitled.</p>"


def group_caption_xml(rng: random.Random) -> str:
    """The caption of a ``<fig-group>``: shared context, no marker of its own."""
    return f"<title>{rng.choice(METHODS)}.</title><p>{sentence(rng)} {sentence(rng)}</p>"


def paragraph(rng: random.Random, *, refs: int, mention: str = "") -> str:
    """A body paragraph, citing a figure (``mention`` is an xref or plain label) if given."""
    sentences = [sentence(rng, refs=refs) for _ in range(rng.randint(2, 4))]
    if mention:
        at = rng.randrange(len(sentences))
        sentences[at] = sentences[at][:-1] + f" ({mention})."
    return "<p>" + " ".join(sentences) + "</p>"
