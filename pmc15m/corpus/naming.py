"""Publisher naming conventions for figure ids, labels and media file names.

Real buckets mix many conventions (``pone-0046493-g001``, ``NPR2-43-85-g001``, dotted
``pntd.0002065.g001``, Springer's ``12885_2023_10560_Fig1_HTML``), and graphic hrefs must
be matched to files by stem, so the corpus uses several of them side by side.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Roles of media files: g(raphic of a figure), t(able), e(quation), i(nline), s(upplement).
_SPRINGER_ROLES = {
    "g": "Fig{n}_HTML",
    "t": "Tab{n}_HTML",
    "e": "Equ{n}_HTML",
    "i": "IEq{n}_HTML",
    "s": "MOESM{n}_ESM",
}
_PLOS = (
    ("PLoS ONE", "pone"),
    ("PLoS Negl Trop Dis", "pntd"),
    ("PLoS Comput Biol", "pcbi"),
    ("PLoS Pathog", "ppat"),
)
_KOREAN = (("Nutr Res Pract", "NRP"), ("Neurointervention", "NI"), ("Korean J Physiol Pharmacol", "KJPP"))
_SPRINGER = (("BMC Cancer", 12885), ("BMC Microbiol", 12866), ("BMC Genomics", 12864))


@dataclass(frozen=True, slots=True)
class Naming:
    """How one article names its figures and files."""

    style: str
    journal: str
    base: str
    doi: str

    def stem(self, role: str, n: int) -> str:
        """The file stem (and usual href) of the ``n``-th media file of ``role``."""
        if self.style == "springer":
            return f"{self.base}_{_SPRINGER_ROLES[role].format(n=n)}"
        if self.style == "ehp":
            return f"{self.base}{role if role != 'g' else 'f'}{n}"
        sep = "." if self.style == "plos_dotted" else "-"
        return f"{self.base}{sep}{role}{n:03d}"

    def fig_id(self, n: int) -> str:
        if self.style in ("plos", "plos_dotted"):
            return f"{self.base.replace('.', '-')}-g{n:03d}"
        if self.style == "ehp":
            return f"f{n}-{self.base}"
        if self.style == "springer":
            return f"Fig{n}"
        if self.style == "frontiers":
            return f"fig{n}"
        return f"F{n}"

    def label(self, n: int) -> str:
        return f"Fig. {n}" if self.style in ("springer", "korean") else f"Figure {n}"


def make_naming(rng: random.Random, year: int) -> Naming:
    """A random publisher convention with plausible journal, file base and DOI."""
    style = rng.choice(("plos", "plos", "plos_dotted", "korean", "ehp", "springer", "frontiers", "generic"))
    if style in ("plos", "plos_dotted"):
        journal, abbr = rng.choice(_PLOS)
        num = rng.randint(1, 99_999)
        base = f"{abbr}.{num:07d}" if style == "plos_dotted" else f"{abbr}-{num:07d}"
        return Naming(style, journal, base, f"10.1371/journal.{abbr}.{num:07d}")
    if style == "korean":
        journal, abbr = rng.choice(_KOREAN)
        vol, issue, page = rng.randint(1, 60), rng.randint(1, 6), rng.randint(1, 400)
        return Naming(
            style,
            journal,
            f"{abbr}{issue}-{vol}-{page}",
            f"10.4162/{abbr.lower()}.{year}.{vol}.{issue}.{page}",
        )
    if style == "ehp":
        vol, page = rng.randint(100, 130), rng.randint(1000, 1999)
        return Naming(style, "Environ Health Perspect", f"ehp-{vol}-{page}", f"10.1289/ehp.{page}{vol}")
    if style == "springer":
        journal, code = rng.choice(_SPRINGER)
        num = rng.randint(10_000, 99_999)
        return Naming(style, journal, f"{code}_{year}_{num}", f"10.1186/s{code}-{year % 100:02d}-{num}-x")
    if style == "frontiers":
        vol, num = rng.randint(5, 15), rng.randint(100_000, 999_999)
        return Naming(style, "Front Immunol", f"fimmu-{vol:02d}-{num}", f"10.3389/fimmu.{year}.{num}")
    num = rng.randint(1000, 99_999)
    return Naming(style, "J Biomed Res", f"jbr-{year}-{num}", f"10.5555/jbr.{year}.{num}")
