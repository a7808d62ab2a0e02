"""The named character entities a JATS document may use, as a built-in table.

The JATS and NLM DTDs declare the ISO 8879 / MathML character entity sets. The DTD is never
loaded (see :mod:`pmc15m.jats.secure`), so the names are resolved from this table instead:
HTML5's list (Python's ``html.entities.html5``, which already holds the MathML names such as
``&InvisibleTimes;``, ``&af;`` and ``&it;``, and most ISO sets), plus the few ISO names the
JATS DTD declares and HTML5 dropped: the ISO Greek sets ``isogrk1`` (``&agr;``), ``isogrk2``
(``&aacgr;``) and ``isogrk4`` (bold Greek, ``&b.alpha;``), and four strays.
"""

from __future__ import annotations

import html.entities
import unicodedata


def _by_name(names: str, chars: str) -> dict[str, str]:
    """``"agr bgr"``, ``"αβ"`` -> ``{"agr": "α", "bgr": "β"}``: a name per character."""
    return dict(zip(names.split(), chars, strict=True))


# isogrk1: letters by transliteration ("agr" is alpha, "THgr" capital theta).
_ISOGRK1 = _by_name(
    "agr bgr ggr dgr egr zgr eegr thgr igr kgr lgr mgr ngr xgr ogr pgr rgr sgr tgr ugr phgr khgr "
    "psgr ohgr sfgr Agr Bgr Ggr Dgr Egr Zgr EEgr THgr Igr Kgr Lgr Mgr Ngr Xgr Ogr Pgr Rgr Sgr Tgr "
    "Ugr PHgr KHgr PSgr OHgr",
    "αβγδεζηθικλμνξοπρστυφχψωςΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
)
# isogrk2: monotoniko Greek (accented and diaeresis letters).
_ISOGRK2 = _by_name(
    "aacgr Aacgr eacgr Eacgr eeacgr EEacgr iacgr Iacgr idigr Idigr idiagr oacgr Oacgr uacgr "
    "Uacgr udigr Udigr udiagr ohacgr OHacgr",
    "άΆέΈήΉίΊϊΪΐόΌύΎϋΫΰώΏ",
)
# isogrk4: bold Greek, "b." plus the isogrk3 name, as Unicode's mathematical bold letters.
_ISOGRK4_LETTERS = {
    "alpha": "SMALL ALPHA", "beta": "SMALL BETA", "gamma": "SMALL GAMMA", "Gamma": "CAPITAL GAMMA",
    "delta": "SMALL DELTA", "Delta": "CAPITAL DELTA", "epsi": "SMALL EPSILON",
    "epsiv": "EPSILON SYMBOL", "zeta": "SMALL ZETA", "eta": "SMALL ETA", "thetas": "SMALL THETA",
    "Theta": "CAPITAL THETA", "thetav": "THETA SYMBOL", "iota": "SMALL IOTA", "kappa": "SMALL KAPPA",
    "kappav": "KAPPA SYMBOL", "lambda": "SMALL LAMDA", "Lambda": "CAPITAL LAMDA", "mu": "SMALL MU",
    "nu": "SMALL NU", "xi": "SMALL XI", "Xi": "CAPITAL XI", "pi": "SMALL PI", "Pi": "CAPITAL PI",
    "piv": "PI SYMBOL", "rho": "SMALL RHO", "rhov": "RHO SYMBOL", "sigma": "SMALL SIGMA",
    "Sigma": "CAPITAL SIGMA", "sigmav": "SMALL FINAL SIGMA", "tau": "SMALL TAU", "upsi": "SMALL UPSILON",
    "Upsi": "CAPITAL UPSILON", "phi": "SMALL PHI", "Phi": "CAPITAL PHI", "phiv": "PHI SYMBOL",
    "chi": "SMALL CHI", "psi": "SMALL PSI", "Psi": "CAPITAL PSI", "omega": "SMALL OMEGA",
    "Omega": "CAPITAL OMEGA", "gammad": "SMALL DIGAMMA", "Gammad": "CAPITAL DIGAMMA",
}  # fmt: skip
_ISOGRK4 = {
    f"b.{name}": unicodedata.lookup(f"MATHEMATICAL BOLD {letter}")
    for name, letter in _ISOGRK4_LETTERS.items()
}
_STRAYS = {"epsis": "\u03f5", "thetas": "\u03b8", "ang90": "\u221f", "jnodot": "\u0237"}

XML_BUILTINS = frozenset({"amp", "lt", "gt", "quot", "apos"})
"""Names every XML parser resolves itself; never rewritten."""

ENTITIES: dict[str, str] = {
    **{name[:-1]: chars for name, chars in html.entities.html5.items() if name.endswith(";")},
    **_ISOGRK1,
    **_ISOGRK2,
    **_ISOGRK4,
    **_STRAYS,
}
"""Entity name (without ``&`` and ``;``) -> the characters it stands for."""
for _name in XML_BUILTINS:
    del ENTITIES[_name]
