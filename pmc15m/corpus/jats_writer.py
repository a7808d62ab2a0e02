"""Write an ``ArticlePlan`` as JATS XML the way PMC serves it, including the broken ones.

The output follows real PMC habits that trip parsers: a DOCTYPE with a remote system id
(which must never be fetched), xlink and MathML namespaces, figures in the body, in
appendices and in a ``<floats-group>``, graphics whose ``xlink:href`` is not the first
attribute, and non-figure graphics (tables, formulas, inline) right next to figures.
Body text comes from the plan's ``text_seed`` so the bytes depend on the plan alone.
"""

from __future__ import annotations

import html
import random
import re
from xml.sax.saxutils import escape, quoteattr

from pmc15m.corpus import prose
from pmc15m.corpus.model import ArticlePlan, Extra, FigurePlan, GraphicPlan, GroupPlan, Item

DOCTYPES = (
    '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.2 '
    '20190208//EN" "https://jats.nlm.nih.gov/archiving/1.2/JATS-archivearticle1.dtd">',
    '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD with MathML3 '
    'v1.3 20210610//EN" "https://jats.nlm.nih.gov/archiving/1.3/JATS-archive-oasis-article1-3-mathml3.dtd">',
)
XXE_DOCTYPE = '<!DOCTYPE article [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>'
_NAMESPACES = (
    'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML" '
    'xmlns:ali="http://www.niso.org/schemas/ali/1.0/"'
)
LICENSE_URLS = {
    "CC BY": "https://creativecommons.org/licenses/by/4.0/",
    "CC BY-NC": "https://creativecommons.org/licenses/by-nc/4.0/",
    "CC BY-NC-ND": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
    "CC BY-NC-SA": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    "CC BY-SA": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC BY-ND": "https://creativecommons.org/licenses/by-nd/4.0/",
    "CC0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "TDM": "https://www.ncbi.nlm.nih.gov/pmc/about/nihpa/",
}
_SURNAMES = ("Delorme", "Nakamura", "Okafor", "Lindqvist", "Garcia", "Chen", "Müller", "Kowalski")
_GIVEN = ("Vincent", "Aiko", "Chidi", "Sofia", "Mateo", "Wei", "Jonas", "Anna")


def write_jats(plan: ArticlePlan) -> bytes:
    """The article's XML bytes (UTF-8); broken on purpose when ``plan.bad_xml`` says so."""
    rng = random.Random(plan.text_seed)
    doctype = XXE_DOCTYPE if plan.bad_xml == "xxe" else rng.choice(DOCTYPES)
    version = "1.3" if "1.3" in doctype else "1.2"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        doctype,
        f'\n<article {_NAMESPACES} dtd-version="{version}" xml:lang="en" article-type="research-article">',
        _front(rng, plan),
        _body(rng, plan),
        _back(rng, plan),
    ]
    if plan.floats:
        parts.append("<floats-group>" + "".join(_item(rng, item) for item in plan.floats) + "</floats-group>")
    parts.append("</article>\n")
    text = "".join(parts)
    if plan.bad_xml == "mismatched":
        text = text.replace("<body>", "<body><p>Unclosed <italic>emphasis</p>", 1)
    elif plan.bad_xml == "truncated":
        text = text[: len(text) * 3 // 5]
    return text.encode("utf-8")


def _front(rng: random.Random, plan: ArticlePlan) -> str:
    journal = escape(plan.journal)
    authors = "".join(
        f'<contrib contrib-type="author"><name><surname>{rng.choice(_SURNAMES)}</surname>'
        f"<given-names>{rng.choice(_GIVEN)}</given-names></name></contrib>"
        for _ in range(rng.randint(1, 5))
    )
    url = LICENSE_URLS.get(plan.license_code, LICENSE_URLS["CC BY"])
    license_type = "open-access" if plan.license_code != "TDM" else "author-manuscript"
    return (
        f'<front><journal-meta><journal-id journal-id-type="nlm-ta">{journal}</journal-id>'
        f"<journal-title-group><journal-title>{journal}</journal-title></journal-title-group>"
        f'<issn pub-type="epub">{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}</issn>'
        "<publisher><publisher-name>Synthetic Publishing</publisher-name></publisher></journal-meta>"
        f'<article-meta><article-id pub-id-type="pmid">{plan.pmid}</article-id>'
        f'<article-id pub-id-type="pmc">{plan.pmcid[3:]}</article-id>'
        f'<article-id pub-id-type="doi">{escape(plan.doi)}</article-id>'
        '<article-categories><subj-group subj-group-type="heading"><subject>Research Article</subject>'
        f"</subj-group></article-categories><title-group><article-title>{escape(plan.title)}</article-title>"
        f'</title-group><contrib-group>{authors}</contrib-group><pub-date pub-type="epub">'
        f"<day>{rng.randint(1, 28)}</day><month>{rng.randint(1, 12)}</month>"
        f"<year>{plan.year}</year></pub-date>"
        f"<volume>{rng.randint(1, 40)}</volume><elocation-id>e{rng.randint(1000, 99999)}</elocation-id>"
        f"<permissions><copyright-statement>\u00a9 {plan.year} The Authors</copyright-statement>"
        f"<copyright-year>{plan.year}</copyright-year>"
        f'<license license-type="{license_type}" xlink:href="{url}"><ali:license_ref>{url}</ali:license_ref>'
        f"<license-p>This article is distributed under the terms of {escape(plan.license_code)}.</license-p>"
        f"</license></permissions><abstract><p>{prose.sentence(rng)} {prose.sentence(rng)}</p></abstract>"
        "</article-meta></front>"
    )


def _mention(item: Item) -> str:
    """How the text cites an item: an xref when it has an id, else its bare label."""
    if isinstance(item, GroupPlan):
        return f'<xref ref-type="fig" rid="{item.group_id}">{escape(item.label)}</xref>'
    if item.fig_id is None:
        return escape(item.label)
    return f'<xref ref-type="fig" rid="{item.fig_id}">{escape(item.label)}</xref>'


def _body(rng: random.Random, plan: ArticlePlan) -> str:
    extras = {role: [e for e in plan.extras if e.role == role] for role in ("table", "formula", "inline")}
    floats = list(plan.floats)
    out = ["<body>"]
    if plan.bad_xml == "xxe":
        out.append("<p>&xxe;</p>")
    for n, (title, items) in enumerate(plan.sections, start=1):
        out.append(f'<sec id="s{n}"><title>{title}</title>')
        out.append(prose.paragraph(rng, refs=plan.n_refs))
        if title == "Introduction":
            out.extend(_inline(rng, plan, e) for e in extras["inline"])
        if title == "Materials and Methods":
            out.extend(_formula(e, k) for k, e in enumerate(extras["formula"], start=1))
        for item in items:
            # The caption-less figure follows its captioned neighbour with nothing between.
            if not (isinstance(item, FigurePlan) and "no_caption" in item.tags):
                out.append(prose.paragraph(rng, refs=plan.n_refs, mention=_mention(item)))
            out.append(_item(rng, item))
        if title == "Results":
            out.extend(prose.paragraph(rng, refs=plan.n_refs, mention=_mention(f)) for f in floats)
            out.extend(_table(rng, e, k) for k, e in enumerate(extras["table"], start=1))
        out.append("</sec>")
    out.append("</body>")
    return "".join(out)


def _item(rng: random.Random, item: Item) -> str:
    if isinstance(item, GroupPlan) and item.translations:
        translations = "".join(
            f'<fig xml:lang="{t.lang}" position="float" fig-type="figure"><label>{escape(t.label)}</label>'
            f"<caption>{t.caption}</caption></fig>"
            for t in item.translations
        )
        figures = "".join(_fig(rng, child, shared_image=True) for child in item.figures)
        images = "".join(_graphics(rng, child) for child in item.figures)
        return f'<fig-group id="{item.group_id}">{translations}{figures}{images}</fig-group>'
    if isinstance(item, GroupPlan):
        children = "".join(_fig(rng, child) for child in item.figures)
        return (
            f'<fig-group id="{item.group_id}"><label>{escape(item.label)}</label>'
            f"<caption>{item.caption}</caption>{children}</fig-group>"
        )
    return _fig(rng, item)


def _fig(rng: random.Random, fig: FigurePlan, *, shared_image: bool = False) -> str:
    """A ``<fig>``; with ``shared_image`` the English fig of a bilingual group: no id, no image."""
    id_attr = f' id="{fig.fig_id}"' if fig.fig_id is not None and not shared_image else ""
    lang_attr = ' xml:lang="en"' if shared_image else ""
    parts = [
        f'<fig{id_attr}{lang_attr} position="float" fig-type="figure">',
        f"<label>{escape(fig.label)}</label>",
    ]
    if fig.caption is not None:
        parts.append(f"<caption>{fig.caption}</caption>")
    if not shared_image:
        parts.append(_graphics(rng, fig))
    parts.append("</fig>")
    return "".join(parts)


def _graphics(rng: random.Random, fig: FigurePlan) -> str:
    graphics = [_graphic(rng, g) for g in fig.graphics]
    if fig.blank_first:
        graphics.insert(0, '<graphic xlink:href=""/>')
    return f"<alternatives>{''.join(graphics)}</alternatives>" if fig.alternatives else "".join(graphics)


def _graphic(rng: random.Random, graphic: GraphicPlan, tag: str = "graphic") -> str:
    """A graphic element; href is sometimes not the first attribute, as in real files."""
    href = f"xlink:href={quoteattr(graphic.href)}"
    if rng.random() < 0.3:
        return f'<{tag} position="anchor" mimetype="image" {href}/>'
    return f"<{tag} {href}/>"


def _table(rng: random.Random, extra: Extra, n: int) -> str:
    graphic = f"<graphic xlink:href={quoteattr(extra.href)}/>"
    table = (
        '<table frame="hsides"><thead><tr><th>Group</th><th>Value</th></tr></thead>'
        "<tbody><tr><td>Control</td><td>1.00</td></tr><tr><td>Treated</td><td>2.35</td></tr></tbody></table>"
    )
    content = f"<alternatives>{graphic}{table}</alternatives>" if rng.random() < 0.5 else graphic
    return (
        f'<table-wrap id="T{n}" position="float"><label>Table {n}</label><caption><p>'
        f"{prose.sentence(rng, markup=False)}</p></caption>{content}</table-wrap>"
    )


def _formula(extra: Extra, n: int) -> str:
    graphic = f"<graphic xlink:href={quoteattr(extra.href)}/>"
    return f'<disp-formula id="E{n}"><label>({n})</label>{graphic}</disp-formula>'


def _inline(rng: random.Random, plan: ArticlePlan, extra: Extra) -> str:
    sentence = prose.sentence(rng, refs=plan.n_refs)
    return f"<p>The symbol <inline-graphic xlink:href={quoteattr(extra.href)}/> marks it. {sentence}</p>"


def _back(rng: random.Random, plan: ArticlePlan) -> str:
    out = ["<back>"]
    if plan.appendix:
        items = "".join(_item(rng, item) for item in plan.appendix)
        out.append(f'<app-group><app id="app1"><title>Appendix</title>{items}</app></app-group>')
    supplements = [e for e in plan.extras if e.role == "supplement"]
    if supplements:
        out.append('<sec sec-type="supplementary-material"><title>Supplementary Material</title>')
        for n, extra in enumerate(supplements, start=1):
            out.append(
                f'<supplementary-material id="SD{n}" content-type="local-data"><label>S{n} File</label>'
                f"<caption><p>{prose.sentence(rng, markup=False)}</p></caption>"
                f"<media xlink:href={quoteattr(extra.href)}/></supplementary-material>"
            )
        out.append("</sec>")
    out.append("<ref-list><title>References</title>")
    for n in range(1, plan.n_refs + 1):
        out.append(
            f'<ref id="B{n}"><label>{n}</label><mixed-citation publication-type="journal">'
            f"{rng.choice(_SURNAMES)} {rng.choice('ABCDEFGH')}. {prose.title(rng)}. "
            f"<source>{escape(plan.journal)}</source>. <year>{rng.randint(1990, plan.year)}</year>."
            "</mixed-citation></ref>"
        )
    out.append("</ref-list></back>")
    return "".join(out)


_TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)[^>]*>")
# Inline elements vanish without a space ("T<sub>4</sub>" reads "T4"); others separate words.
_INLINE = frozenset({"italic", "bold", "sub", "sup", "sc", "underline", "monospace", "xref", "ext-link"})
_BLOCKS = frozenset(
    {"p", "title", "sec", "caption", "fig", "table-wrap", "ref", "article-title", "tr", "list-item"}
)
_SKIPPED = re.compile(
    r"<front>.*?(?=<title-group>)|</title-group>.*?(?=<abstract>)|<tex-math.*?</tex-math>", re.S
)


def _tag(match: re.Match[str]) -> str:
    closing, name = match.group(1), match.group(2)
    if name in _INLINE or name.startswith("mml:"):
        return ""
    return "\n" if closing and name in _BLOCKS else " "


def plain_text(xml: bytes) -> bytes:
    """The article as plain text (the bucket's ``.txt``): title, abstract, body, back."""
    text = xml.decode("utf-8", errors="replace")
    text = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*(\[[^\]]*\])?\s*>", "", text)
    text = _TAG.sub(_tag, _SKIPPED.sub(" ", text))
    lines = (" ".join(html.unescape(line).split()) for line in text.splitlines())
    return ("\n".join(line for line in lines if line) + "\n").encode("utf-8")
