"""Expected figures of the real articles in ../shared/jats (used by tests/jats/test_jats_real.py).

How these were made, so that they check the parser rather than echo it: ids and labels
were read from the raw XML with regular expressions (no lxml, no pmc15m); caption texts
are the caption's source text with the document's own whitespace, a space at block
boundaries (title, p, list-item), eLife's "DOI: …" paragraphs and nested source-data
``<supplementary-material>`` removed, and whitespace collapsed. The four captions with
MathML (elife-14093 fig12/fig13/fig14, elife05502 fig11) were then rewritten by hand into
the linear formula notation of pmc15m.jats.mathml after reading their MathML. ``formula_figs``
counts figs whose ``<caption>`` holds ``<mml:math>`` / ``<tex-math>`` in the raw XML.
Articles without figures are not listed (their count, 0, is checked from the README).
Figures chosen per article: its two shortest captions and its most marked-up one.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    ids: tuple[str, ...]  # every <fig id>, in document order
    labels: tuple[str, ...]  # their <label> texts
    formula_figs: int  # figs whose caption holds a formula
    captions: dict[str, str] = field(default_factory=dict)  # fig id -> exact caption text


CASES: dict[str, Case] = {
    "elife/elife-00666.xml": Case(
        ids=(
            "fig1",
            "fig2",
            "fig2s1",
            "fig2s2",
            "fig3",
            "fig3s1",
            "fig4",
            "box2fig1",
            "app1fig1",
            "app1fig1s1",
            "respfig1",
        ),
        labels=(
            "Figure 1.",
            "Figure 2.",
            "Figure 2—figure supplement 1.",
            "Figure 2—figure supplement 2.",
            "Figure 3.",
            "Figure 3—figure supplement 1.",
            "Figure 4.",
            "Box 2—Figure 1.",
            "Appendix 1—Figure 1.",
            "Appendix 1—Figure 1—Figure Supplement 1.",
            "Author response image 1.",
        ),
        formula_figs=0,
        captions={
            "box2fig1": "Box figure",
            "fig3s1": "Title of the figure supplement",
            "fig2": (
                "Figure with figure supplements. In the PDF this asset box will take full column width. "
                "This is the basic information provided about an article. Figure 1 shows an expanded "
                "view (Kok et al., 2015; National Institute of Mental Health, 1990)."
            ),
        },
    ),
    "elife/elife-02833-v2.xml": Case(
        ids=(
            "fig1",
            "fig1s1",
            "fig1s2",
            "fig2",
            "fig2s1",
            "fig2s2",
            "fig3",
        ),
        labels=(
            "Figure 1.",
            "Figure 1—figure supplement 1.",
            "Figure 1—figure supplement 2.",
            "Figure 2.",
            "Figure 2—figure supplement 1.",
            "Figure 2—figure supplement 2.",
            "Figure 3.",
        ),
        formula_figs=0,
        captions={
            "fig1s2": (
                "Close-up of parasegment-specific expression patterns. Embryos expressing the INTACT "
                "marker in parasegments 4–7 were obtained as in Figure 1B. All are at ∼10 hr of "
                "development, prior to dorsal closure; they were dissected along the dorsal midline, "
                "and flattened to display the epidermis in one focal plane. The last panel shows an "
                "embryo stained for UBX (in blue) and ABD-A (in brown) (Karch et al., 1990), to "
                "illustrate the expression patterns of these two proteins in parasegments 4–7."
            ),
            "fig1": (
                "Marking single parasegments. (A) Drivers for the Gal4 activator and the Gal80 "
                "repressor, each with a different anterior limit, are combined genetically. Gal4 "
                "activity is thus limited to a single parasegment, and is used to activate "
                "transcription of a fluorescent nuclear envelope protein. (B) Expression patterns used "
                "for isolation of parasegment nuclei are shown, visualized with antibody to the FLAG "
                "epitope on the INTACT fusion protein. Each panel shows embryos at about 6, 8, 10, 12, "
                "14, and 16 hr after fertilization, with the stained cells marking the indicated "
                "parasegments. Embryos between 5 hr and 13 hr old (or between 4 hr and 10 hr for PS6) "
                "were harvested for analysis."
            ),
            "fig2": (
                "H3K27me3, CTCF, and CP190 profiles. (A) ChIP-seq profiles across 27 Mb of chromosome "
                "3R are virtually identical, except at the BX-C, in the middle of the chromosome arm. "
                "(B–F) H3K27me3 profiles across 380 kb encompassing the BX-C. (G–H) CTCF binding sites. "
                "(I and J) CP190 binding sites. Panels B, G, and I were prepared from unsorted nuclei; "
                "parasegment-specific nuclei were used for the other panels, as indicated. "
                "Transcription units of coding genes are shown below the profiles. The Drosophila "
                "reference sequence includes a 6.1 kb Diver retroposon insertion at the indicated "
                "position; it was not present in the strains used for this analysis. At the bottom are "
                "shown the three regulatory domains defined by this analysis."
            ),
        },
    ),
    "elife/elife-14093-v1.xml": Case(
        ids=(
            "fig1",
            "fig2",
            "fig3",
            "fig3s1",
            "fig4",
            "fig5",
            "fig6",
            "fig6s1",
            "fig7",
            "fig8",
            "fig9",
            "fig10",
            "fig11",
            "fig12",
            "fig13",
            "fig14",
            "fig15",
        ),
        labels=(
            "Figure 1.",
            "Figure 2.",
            "Figure 3.",
            "Figure 3—figure supplement 1.",
            "Figure 4.",
            "Figure 5.",
            "Figure 6.",
            "Figure 6—figure supplement 1.",
            "Figure 7.",
            "Figure 8.",
            "Appendix 1—figure 1.",
            "Appendix 1—figure 2.",
            "Appendix 1—figure 3.",
            "Appendix 1—figure 4.",
            "Appendix 1—figure 5.",
            "Appendix 1—figure 6.",
            "Appendix 1—figure 7.",
        ),
        formula_figs=14,
        captions={
            "fig13": (
                "Role of the control parameters for the tanh based inhibition function. (a–b) Average "
                "plastochron ratio as a function of Γ and Γ_D = Γ/(β^(1/6)E^(*1/2)), respectively. (c) "
                "Number of permutations π as a function of Γ_P."
            ),
            "fig12": (
                "Histogram of randomly generated sequences. (a) Histogram of randomly generated "
                "sequences, κ = 14.0,π_(2, 3) = 24%. (b) Histogram of randomly generated sequences, κ = "
                "14.0, π_(2, 3) = 43%. (c) Histogram of randomly generated sequences, κ = 10.4, π_(2, "
                "3) = 24%. (d) Histogram of randomly generated sequences, κ = 10.4, π_(2, 3) = 43%."
            ),
            "fig14": (
                "Role of the control parameters for the power law inhibition function, with rows (a–e) "
                "corresponding respectively to a steepness s = 1, 2, 4, 5, 6. First two columns: "
                "average plastochron ratio as a function of Γ and Γ_D = Γ/(β^(1/6)E^(*1/2)), "
                "respectively. Third column: average plastochron ratio as a function of Γ_D = "
                "(Γ^(s/3))/(β^(1/6)E^(*1/2)).6"
            ),
        },
    ),
    "elife/elife-kitchen-sink.xml": Case(
        ids=(
            "fig1",
            "sfig1",
            "fig2",
            "fig3",
            "sfig2",
            "sfig3",
            "sfig4",
            "sfig5",
            "sfig6",
            "sfig7",
            "sfig8",
            "sfig9",
            "sfig10",
            "sfig11",
            "sfig12",
            "sfig13",
            "sfig14",
            "sfig15",
            "sfig16",
            "fig4",
            "sfig17",
            "fig9",
            "fig10",
            "fig11",
            "fig5",
        ),
        labels=(
            "Figure 1.",
            "Figure 1—figure supplement 1.",
            "Figure 2.",
            "Figure 3.",
            "Figure 3—figure supplement 1.",
            "Figure 3—figure supplement 2.",
            "Figure 3—figure supplement 3.",
            "Figure 3—figure supplement 4.",
            "Figure 3—figure supplement 5.",
            "Figure 3—figure supplement 6.",
            "Figure 3—figure supplement 7.",
            "Figure 3—figure supplement 8.",
            "Figure 3—figure supplement 9.",
            "Figure 3—figure supplement 10.",
            "Figure 3—figure supplement 11.",
            "Figure 3—figure supplement 12.",
            "Figure 3—figure supplement 13.",
            "Figure 3—figure supplement 14.",
            "Figure 3—figure supplement 15.",
            "Figure 4.",
            "Figure 4—figure supplement 1.",
            "Appendix 1 Figure 1.",
            "Appendix 2 Figure 1",
            "Appendix 2 Figure 2",
            "Author response image 1",
        ),
        formula_figs=0,
        captions={
            "sfig9": (
                "The title of the child fig. gCOSY spectrum of RIF-1: Indicated are important H-H "
                "correlations between NH and H-2, 2'-OH and H-2', 3-OH and H-3, and 5-OH and H-5."
            ),
            "sfig15": (
                "The title of the child fig. TOCSY spectrum of RIF-1: The spectrum shows correlations "
                "from NH to H2-1 and H-5 through H-2, H-3 and H2-4, and from 3-OH to H-5 via H2-4 and "
                "H2-1 through H-3 and H-2."
            ),
            "sfig11": (
                "The title of the child fig. Expanded dqfCOSY spectra of RIF-1: In panel A (dH1.15-1.65 "
                "ppm/dH3.52-3.82 ppm), H-3 (dH3.73) shows correlation to H-4a (dH1.30), H-5 (dH3.57) to "
                "H-4a/H-4b (dH1.30/1.47), and H-5 to H2-6 (dH1.20/1.29); H-2' (∼dH3.8) correlates to "
                "H2-3' (dH1.45 and 1.54). Panel B (dH2.4-4.0 ppm/dH2.4-4.0 ppm) demonstrates the "
                "correlations between H2-1 (dH2.56/∼3.0) and H-2 (dH3.88), and between H-2 and H-3. "
                "Panel C (dH0.75-1.60 ppm/dH0.75-1.60 ppm) exhibits correlations in the other "
                "methylenes and methyl groups."
            ),
        },
    ),
    "elife/elife00005.xml": Case(
        ids=(
            "fig1",
            "fig2",
            "fig3",
            "fig4",
            "fig5",
            "fig6",
            "fig7",
            "fig8",
            "fig9",
            "fig9s1",
            "fig10",
            "fig11",
            "fig12",
            "fig13",
        ),
        labels=(
            "Figure 1.",
            "Figure 2.",
            "Figure 3.",
            "Figure 4.",
            "Figure 5.",
            "Figure 6.",
            "Figure 7.",
            "Figure 8.",
            "Figure 9.",
            "Figure 9—figure supplement 1.",
            "Figure 10.",
            "Figure 11.",
            "Figure 12.",
            "Figure 13.",
        ),
        formula_figs=0,
        captions={
            "fig13": (
                "A proposed possible model for the binding of the PRC2-AEBP2 complex to a di-nucleosome."
            ),
            "fig4": (
                "Structure of the human PRC2-AEBP2 complex. (A) The PRC2-AEBP2 complex consists of 4 "
                "different lobes, each about 55 Å in diameter (A, B, C, D), interconnected by two "
                "narrow arms (Arm 1, Arm 2). The two WD40 domains of EED and RbAp48 (indicated in blue) "
                "are located at opposite ends."
            ),
            "fig6": (
                "Isotopic crosslinking within the WD40 regions of EED and RbAp48. (A) Crystal structure "
                "of EED in complex with Ezh2 (PDB: 2QXV). EED is colored in green and Ezh2 in blue. "
                "Both intermolecular and intra-molecular crosslinking data fit very well with the "
                "inter-residue distance in the structure. Scale bar of 7.7 Å represent the length of "
                "DSSG molecule used for the cross-linking experiment. (B) Structure of the subunit "
                "RbAp46 (PDB: 3CFS; 89% identity to RbAp48). Distance between residues K120 and K160 "
                "(∼5 Å) is within the range of the cross-linker. The larger distance observed between "
                "cross-linked residues K160 and K220 (∼10 Å) could be justified if the length of both "
                "lysine residues is also included in the calculation."
            ),
        },
    ),
    "elife/elife00007.xml": Case(
        ids=(
            "fig1",
            "fig2",
            "fig3",
            "fig4",
            "fig5",
            "fig6",
            "fig7",
            "fig8",
            "fig9",
            "fig10",
        ),
        labels=(
            "Figure 1.",
            "Figure 2.",
            "Figure 3.",
            "Figure 4.",
            "Figure 5.",
            "Figure 6.",
            "Figure 7.",
            "Figure 8.",
            "Figure 9.",
            "Figure 10.",
        ),
        formula_figs=0,
        captions={
            "fig8": (
                "Comparison of plants used in triplets for infestation M4 in 2011 (see Figure 4A); "
                "graphs show means+SEM (N=21 plants). (A) Parameters used to match plants in triplets. "
                "Measurements and assessments are from the first day of M4. (B) Final measurement of "
                "prior growth and reproduction for plants used for triplets; data are from the final "
                "two measurements during infestation M3 (see Figure 4A). a, bDifferent letters denote "
                "significant differences (p<0.001) for flower number in Scheffe post hoc tests "
                "following a MANOVA with all measurements and genotype as the factor (F2,60=8.668, "
                "p<0.001). (C) Health index used in (A). For raw data, see "
                "F8_SchumanBarthelBaldwin2012triplets.xlsx (Dryad: Schuman et al., 2012)."
            ),
            "fig4": (
                "Experimental timeline and layout. (A) Timeline of field experiments in 2010 and 2011. "
                "Different assays and measurements are represented by individual arrows, and rectangles "
                "span the time frame of each assay or measurement; narrow rectangles represent single "
                "days. Four experimental Manduca infestations (M1–M4) structure the overall "
                "experimental design: M1–M3, with laboratory Manduca, and M4, with wild Manduca larvae. "
                "(B and C) Layouts of field plots in (B) 2010 and (C) 2011. Thick lines denote the "
                "borders of the experiment, thin lines denote irrigation lines (vertical borders of "
                "plot were also irrigation lines in [B] 2010), and R# denotes row number (used for "
                "identifying replicates during the experiment). The genotype key in (B) applies to both "
                "(B) and (C)."
            ),
        },
    ),
    "elife/elife00013.xml": Case(
        ids=(
            "fig1",
            "fig1s1",
            "fig2",
            "fig3",
            "fig3s1",
            "fig3s2",
            "fig3s3",
            "fig3s4",
            "fig3s5",
            "fig3s6",
            "fig3s7",
            "fig3s8",
            "fig3s9",
            "fig3s10",
            "fig3s11",
            "fig3s12",
            "fig3s13",
            "fig3s14",
            "fig3s15",
            "fig4",
            "fig4s1",
            "fig4s2",
            "fig4s3",
        ),
        labels=(
            "Figure 1.",
            "Figure 1—figure supplement 1.",
            "Figure 2.",
            "Figure 3.",
            "Figure 3—figure supplement 1.",
            "Figure 3—figure supplement 2.",
            "Figure 3—figure supplement 3.",
            "Figure 3—figure supplement 4.",
            "Figure 3—figure supplement 5.",
            "Figure 3—figure supplement 6.",
            "Figure 3—figure supplement 7.",
            "Figure 3—figure supplement 8.",
            "Figure 3—figure supplement 9.",
            "Figure 3—figure supplement 10.",
            "Figure 3—figure supplement 11.",
            "Figure 3—figure supplement 12.",
            "Figure 3—figure supplement 13.",
            "Figure 3—figure supplement 14.",
            "Figure 3—figure supplement 15.",
            "Figure 4.",
            "Figure 4—figure supplement 1.",
            "Figure 4—figure supplement 2.",
            "Figure 4—figure supplement 3.",
        ),
        formula_figs=0,
        captions={
            "fig3s8": (
                "gCOSY spectrum of RIF-1. Indicated are important H-H correlations between NH and H-2, "
                "2′-OH and H-2′, 3-OH and H-3, and 5-OH and H-5."
            ),
            "fig3s14": (
                "TOCSY spectrum of RIF-1. The spectrum shows correlations from NH to H2-1 and H-5 "
                "through H-2, H-3 and H2-4, and from 3-OH to H-5 via H2-4 and H2-1 through H-3 and H-2."
            ),
            "fig3s9": (
                "Expanded dqfCOSY spectrum of RIF-1. In panel A (δH 1.15-1.65 ppm/δH 3.52-3.82 ppm), "
                "H-3 (δH 3.73) shows correlation to H-4a (δH 1.30), H-5 (δH 3.57) to H-4a/H-4b (δH "
                "1.30/1.47), and H-5 to H2-6 (δH 1.20/1.29); H-2′ (∼δH 3.8) correlates to H2-3′ (δH "
                "1.45 and 1.54). Panel B (δH 2.4-4.0 ppm/δH 2.4-4.0 ppm) demonstrates the correlations "
                "between H2-1 (δH 2.56/∼3.0) and H-2 (δH 3.88), and between H-2 and H-3. Panel C (δH "
                "0.75-1.60 ppm/δH 0.75-1.60 ppm) exhibits correlations in the other methylenes and "
                "methyl groups."
            ),
        },
    ),
    "elife/elife00133.xml": Case(
        ids=(
            "fig1",
            "fig1s1",
            "fig1s2",
            "fig1s3",
            "fig2",
            "fig3",
            "fig3s1",
            "fig3s2",
            "fig4",
            "fig5",
            "fig6",
            "fig6s1",
            "fig7",
            "fig8",
        ),
        labels=(
            "Figure 1.",
            "Figure 1—figure supplement 1.",
            "Figure 1—figure supplement 2.",
            "Figure 1—figure supplement 3.",
            "Figure 2.",
            "Figure 3.",
            "Figure 3—figure supplement 1.",
            "Figure 3—figure supplement 2.",
            "Figure 4.",
            "Figure 5.",
            "Figure 6.",
            "Figure 6—figure supplement 1",
            "Author response image 1.",
            "Author response image 2.",
        ),
        formula_figs=0,
        captions={
            "fig1s3": (
                "UNC-116 acts cell autonomously in DA9 neuron. (A)–(C) Confocal micrographs of 10 "
                "wild-type (A), unc-116 (e2310) (B), and unc-116;Ex[Pmig13::unc-116] DA9 ventral axon, "
                "cell body and dendrite, straightened and aligned along their A-P axis."
            ),
            "fig3s2": (
                "Presynaptic proteins are mis-localized in unc-116 mutant. (A) and (B) Distribution of "
                "synaptic vesicle marker GFP::RAB-3 and an active zone marker mCherry::SYD-2 in "
                "wild-type and unc-116 (e2310) mutant. The scale bar represents 10 μm. The high "
                "magnifications are shown in the right panels."
            ),
            "fig4": (
                "DA9 dendrite fails to accumulate dendritic proteins in unc-116 mutants. (A) and (D) "
                "Distribution of the postsynaptic neurotransmitter receptor ACR-2::GFP in wild-type (A) "
                "and unc-116 (D) animals. Bracket indicates dendrite region. (B) and (E) Localization "
                "of CAM-1::YFP in a representative wild-type (B) or unc-116 worm (E). (C) and (F) "
                "Localization of FBN-1::YFP in a representative wild-type (C) or unc-116 worm (F). (G) "
                "Quantification of CAM-1::YFP fluorescence intensity in the dendrite (n = 20). "
                "***p<0.0001. Student's t-test. The scale bar represents 10 μm. Bracket indicates "
                "dendrite. Asterisk denotes DA9 cell body."
            ),
        },
    ),
    "elife/elife00240.xml": Case(
        ids=("fig1",),
        labels=("Figure 1.",),
        formula_figs=0,
        captions={
            "fig1": (
                "The wild tobacco plant N. attenuata relies on both direct and indirect mechanisms to "
                "defend it against M. sexta caterpillars. Indirect defence involves the release of "
                "volatile chemicals that attract Geocoris bugs that prey on the caterpillars. This "
                "photograph shows a Geocoris bug (bottom left) about to attack a caterpillar and two of "
                "its larvae."
            ),
        },
    ),
    "elife/elife02304.xml": Case(
        ids=(
            "fig1",
            "fig1s1",
            "fig2",
            "fig2s1",
            "fig2s2",
            "fig2s3",
            "fig3",
            "fig3s1",
            "fig3s2",
            "fig3s3",
            "fig4",
            "fig5",
            "fig5s1",
            "fig6",
            "fig6s1",
            "fig6s2",
            "fig6s3",
            "fig6s4",
            "fig6s5",
            "fig6s6",
            "fig6s7",
            "fig7",
            "fig7s1",
            "fig8",
        ),
        labels=(
            "Figure 1.",
            "Figure 1—figure supplement 1.",
            "Figure 2.",
            "Figure 2—figure supplement 1.",
            "Figure 2—figure supplement 2.",
            "Figure 2—figure supplement 3.",
            "Figure 3.",
            "Figure 3—figure supplement 1.",
            "Figure 3—figure supplement 2.",
            "Figure 3—figure supplement 3.",
            "Figure 4.",
            "Figure 5.",
            "Figure 5—figure supplement 1.",
            "Figure 6.",
            "Figure 6—figure supplement 1.",
            "Figure 6—figure supplement 2.",
            "Figure 6—figure supplement 3.",
            "Figure 6—figure supplement 4.",
            "Figure 6—figure supplement 5.",
            "Figure 6—figure supplement 6.",
            "Figure 6—figure supplement 7.",
            "Figure 7.",
            "Figure 7—figure supplement 1.",
            "Figure 8.",
        ),
        formula_figs=0,
        captions={
            "fig5s1": "Sequence identity of ancestral and modern proteins.",
            "fig2s1": (
                "Sequence alignment of the specificity loop from apicomplexan M/LDHs with ancestral "
                "sequences."
            ),
            "fig4": (
                "Specificity switching in apicomplexan M/LDHs. Blue horizontal bars (left) quantify "
                "activity towards oxaloacetate; vermilion horizontal bars (right) quantify activity "
                "towards pyruvate. Activity is measured as log10(kcat/KM ), where kcat/KM is in units "
                "of s-1M−1. Error bars are shown as small black brackets and represent 1 SD of the mean "
                "from triplicate measurements. INS refers to the presence of the six-residue insertion "
                "from PfLDH, DEL refers to the removal of the six-residue insertion. Relative "
                "specificity (RS) is the ratio of kcat/KM for pyruvate vs oxaloacetate, with positive "
                "log10(RS) representing a preference for pyruvate and negative log10(RS) representing a "
                "preference for oxaloacetate. All logarithms are base 10."
            ),
        },
    ),
    "elife/elife02935.xml": Case(
        ids=(
            "fig1",
            "fig1s1",
            "fig1s2",
            "fig1s3",
            "fig1s4",
            "fig1s5",
            "fig2",
            "fig2s1",
            "fig3",
            "fig3s1",
            "fig4",
            "fig4s1",
            "fig4s2",
            "fig5",
            "fig5s1",
            "fig5s2",
            "fig5s3",
            "fig6",
            "fig7",
        ),
        labels=(
            "Figure 1.",
            "Figure 1—figure supplement 1.",
            "Figure 1—figure supplement 2.",
            "Figure 1—figure supplement 3.",
            "Figure 1—figure supplement 4.",
            "Figure 1—figure supplement 5.",
            "Figure 2.",
            "Figure 2—figure supplement 1.",
            "Figure 3.",
            "Figure 3—figure supplement 1.",
            "Figure 4.",
            "Figure 4—figure supplement 1.",
            "Figure 4—figure supplement 2.",
            "Figure 5.",
            "Figure 5—figure supplement 1.",
            "Figure 5—figure supplement 2.",
            "Figure 5—figure supplement 3.",
            "Author response image 1.",
            "Author response image 2.",
        ),
        formula_figs=0,
        captions={
            "fig1s3": "Validation of mtDNA somatic substitutions.",
            "fig6": "Somatic mutational signature of mitochondrial DNA",
            "fig4": (
                "Mutational signature similar to processes shaping human mtDNA sequence over "
                "evolutionary time. (A) Triplet codon depletion in human mtDNA by equivalent (CH > TH "
                "and TL > CL) mutational pressure. Relative frequency of each triplet codon within "
                "synonymous pairs (NNT–NNC or NNA–NNG) is shown by color. The arrows beside the box "
                "highlight the T > C (red) and G > A (blue) substitutional pressures on the L strand in "
                "germline mtDNA. (B) Correlation of triplet codon frequencies between from observed and "
                "from simulated evolutions of a random sequence mtDNA by the mtDNA somatic mutational "
                "signature with constraining mitochondrial protein sequences."
            ),
        },
    ),
    "elife/elife04490.xml": Case(
        ids=(
            "fig1",
            "fig2",
            "fig2s1",
            "fig2s2",
            "fig2s3",
            "fig3",
            "fig4",
            "fig5",
            "fig6",
            "fig7",
            "fig8",
            "fig9",
            "fig9s1",
            "fig10",
            "fig11",
            "fig12",
            "fig13",
        ),
        labels=(
            "Figure 1.",
            "Figure 2.",
            "Figure 2—figure supplement 1.",
            "Figure 2—figure supplement 2.",
            "Figure 2—figure supplement 3.",
            "Figure 3.",
            "Figure 4.",
            "Figure 5.",
            "Figure 6.",
            "Figure 7.",
            "Figure 8.",
            "Figure 9.",
            "Figure 9—figure supplement 1.",
            "Figure 10.",
            "Figure 11.",
            "Appendix Figure 1.",
            "Appendix Figure 2.",
        ),
        formula_figs=0,
        captions={
            "fig2s2": (
                "Layout in experimental season two, and color codes. R, row of earth between two "
                "irrigation lines; not to scale."
            ),
            "fig2s3": (
                "Example of plant distribution in a native N. attenuata population, photographed in "
                "2004. Reprinted with permission from Danny Kessler, Copyright 2004. All rights "
                "reserved."
            ),
            "fig13": (
                "Target gene transcript levels in lox2/3, TPS10, and lox2/3xTPS10 plants. Transcript "
                "accumulation shows that lox2/3 plants, TPS10 plants, and hemizygous crosses "
                "(lox2/3xTPS10) have the expected silencing or accumulation of the target genes LOX2, "
                "LOX3, and TPS10 (mean ± SEM, n = 4). a,b Different letters indicate significant "
                "differences (corrected p < 0.01) in Tukey HSD tests following a significant (p < "
                "0.001) 1-way ANOVA on natural log-transformed data (LOX2: F3,12 = 49.49, p < 0.001; "
                "LOX3: F3,12 = 13.73, p < 0.001; TPS10: F3,12 = 845.6, p < 0.001)."
            ),
        },
    ),
    "elife/elife04493.xml": Case(
        ids=(
            "fig1",
            "fig2",
            "fig3",
            "fig3s1",
            "fig4",
            "fig4s1",
            "fig5",
            "fig5s1",
            "fig6",
            "fig6s1",
            "fig7",
            "fig7s1",
            "fig8",
            "fig9",
        ),
        labels=(
            "Figure 1.",
            "Figure 2.",
            "Figure 3.",
            "Figure 3—figure supplement 1.",
            "Figure 4.",
            "Figure 4—figure supplement 1.",
            "Figure 5.",
            "Figure 5—figure supplement 1.",
            "Figure 6.",
            "Figure 6—figure supplement 1.",
            "Figure 7.",
            "Figure 7—figure supplement 1.",
            "Figure 8.",
            "Figure 9.",
        ),
        formula_figs=0,
        captions={
            "fig4s1": (
                "Dorsal (A) and transverse (B) view of the adult VNS showing a MARCM clone for the T2 "
                "lineage 1. The 1B siblings have been pulled anteriorly into T1 where they branch "
                "through the ipsilateral leg neuropil. The 1A siblings are projection neurons with "
                "ventral (v) arbor in both the ipsi- and contralateral leg neuropils and bilateral "
                "dorsal (d) arbors that extend into the dorsal, tectulum neuropil. *: arbor from "
                "another lineage."
            ),
            "fig5s1": (
                "Dorsal (A) and transverse (B) view of the adult VNS showing a MARCM clone for the T3 "
                "lineage 7. From the cell cluster (arrowhead) the cells project dorsally to elaborate a "
                "dense arbor (i) in the ipsilateral tectulum neuropil and then cross via an anterior "
                "commissure and extend an anterior output arbor (c). They also send a send a second "
                "projection that crosses the midline and extends ventrally into leg neuropil (cv). "
                "Bracket shows level of transverse projection."
            ),
            "fig7s1": (
                "Dorsal (A) and transverse (B) view of the T2 region of the adult VNS showing a lineage "
                "19 MARCM clone. The 19A siblings project ventrally into the ipsilateral leg neuropil "
                "while the 19B siblings project across the posterior commissure (white arrowhead). (C, "
                "D) Z-projections of ventral (C) and dorsal (D) regions of the clone that captures most "
                "of the arbors of the 19A and 19B hemilineages, respectively. The 19A cells have "
                "primarily arbor in their leg neuropil but they also have a prominent projection to the "
                "midline. The 19B cells have strong lateral anterior projections (lat) that are both "
                "ipsilateral and contralateral as well as weaker, symmetrical medial projections (med)."
            ),
        },
    ),
    "elife/elife04953.xml": Case(
        ids=(
            "fig1",
            "fig1s1",
            "fig1s2",
            "fig1s3",
            "fig1s4",
            "fig1s5",
            "fig2",
            "fig2s1",
            "fig2s2",
            "fig2s3",
            "fig2s4",
            "fig2s5",
            "fig3",
            "fig3s1",
            "fig3s2",
            "fig4",
            "fig5",
            "fig5s1",
            "fig5s2",
            "fig6",
            "fig6s1",
            "fig6s2",
            "fig6s3",
            "fig7",
            "fig7s1",
            "fig8",
            "fig9",
            "fig10",
            "fig11",
            "fig12",
            "fig13",
        ),
        labels=(
            "Figure 1.",
            "Figure 1—figure supplement 1.",
            "Figure 1—figure supplement 2.",
            "Figure 1—figure supplement 3.",
            "Figure 1—figure supplement 4.",
            "Figure 1—figure supplement 5.",
            "Figure 2.",
            "Figure 2—figure supplement 1.",
            "Figure 2—figure supplement 2.",
            "Figure 2—figure supplement 3.",
            "Figure 2—figure supplement 4.",
            "Figure 2—figure supplement 5.",
            "Figure 3.",
            "Figure 3—figure supplement 1.",
            "Figure 3—figure supplement 2.",
            "Figure 4.",
            "Figure 5.",
            "Figure 5—figure supplement 1.",
            "Figure 5—figure supplement 2.",
            "Figure 6.",
            "Figure 6—figure supplement 1.",
            "Figure 6—figure supplement 2.",
            "Figure 6—figure supplement 3.",
            "Figure 7.",
            "Figure 7—figure supplement 1.",
            "Author response image 1.",
            "Author response image 2.",
            "Author response image 3.",
            "Author response image 4.",
            "Author response image 5.",
            "Author response image 6.",
        ),
        formula_figs=0,
        captions={
            "fig3s2": (
                "Localization of phosphorylated form of Src family kinases (SFK) at TCR MC/F-actin "
                "foci. AND mouse CD4 T cell blasts were labeled with Alexa568-H57 Fab, incubated with "
                "MHCp/ICAM1 containing bilayer for 2 min, fixed and then immunostained for phospho-SFK "
                "(p-SFK). An example line scan profile for the line (white) indicated on the left image "
                "is displayed (right graph) to show the relative distribution of TCR, actin and "
                "phospho-SFK across the row of pixels. Scale bar, 6 μm."
            ),
            "fig8": (
                "CK666 treatment results in reduced phosphorylation of PLCã1 at the T cell synapse "
                "activated on MHCp. AND CD4 T cell blasts treated with DMSO (Control, upper panels) or "
                "CK666 (lower panels) were incubated with bilayers containing ICAM1 and MHCp, for 2 min "
                "at 37⁰C. Cells were then fixed, immunostained with anti-phospho-PLCã antibody and "
                "Alexa488-phalloidin, and visualized using TIRF microscopy. The graph shows phosphoPLCã "
                "levels at synapse, in control and CK666 treated cells. n1=47, n2=60, p <0.0001."
            ),
            "fig2s1": (
                "Test for co-localization of foci and MCs. (A) An example of image analysis carried out "
                "to assess co-localization between F-actin foci and TCR/ICAM1, using 50% rank-filter "
                "based processing, as described in Figure 1–figure supplement 1A (B) TCR MC and F-actin "
                "foci co-localization is significantly higher than chance overlap. To measure chance "
                "level co-localization, the actin images from Figure 1 were shifted by 5 pixels in x "
                "and y dimensions (schematic on top), and analyzed for co-localization with respect to "
                "the unshifted TCR (left graph) or ICAM1 (right graph) images. Note that while pixel "
                "shift results in significant reduction TCR-F-actin foci co-localization (left graph, p "
                "< 0.0001), levels of ICAM1/F-actin foci association are unaffected (right graph, p = "
                "0.53)."
            ),
        },
    ),
    "elife/elife05031.xml": Case(
        ids=(
            "fig1",
            "fig2",
            "fig3",
            "fig4",
            "fig5",
            "fig6",
        ),
        labels=(
            "Figure 1.",
            "Figure 2.",
            "Figure 3.",
            "Figure 4.",
            "Figure 5.",
            "Figure 6.",
        ),
        formula_figs=0,
        captions={
            "fig6": (
                "A model of step-wise activation of the Ire1/HAC1 mRNA signaling relay. The steps are "
                "described in the Discussion. Color-coding is as in Figure 1, except that unfolded "
                "proteins are depicted in light green and mRNA in red. Ire1 domain interfaces are "
                "indicated by wiggly lines."
            ),
            "fig5": (
                "Step-wise targeting and docking of mRNA are pre-requisite for activating Ire1. (A) "
                "Localization of mCherry-tagged Ire1 and SpR Δ3′ BEU1A mRNA decorated with U1A–GFP. "
                "ER-stress was induced with 10 mM DTT for 45 min; imaging was performed in ire1Δ cells, "
                "complemented with wild-type IRE1 having the mCherry module in the αF–αEF loop (left). "
                "Scale bar represents 5 µm. Co-localization index for mRNA recruitment into foci (mean "
                "and s.e.m., n = 10) (right). Statistical significance of the difference in mRNA "
                "recruitment of SpR Δ3′ BEU1A as compared with SpRU1A to Ire1–mCherry clusters (Figure "
                "3D,G) was tested using a Student's t-test (**p ≤ 0.01). (B) Schematic of mRNA docking "
                "‘bypass’. The U1A module placed in the αF–αEF loop of Δ[+]-box mutant ire1 facilitates "
                "binding of HAC1U1A mRNA via its U1A motifs. (C) Splicing was measured by quantitative "
                "RT-PCR before or after ER-stress induction with 2 mM DTT for 30 min (top) and "
                "viability assay under ER-stress conditions (0.2 µg ml−1 tunicamycin) of hac1Δ/ire1Δ "
                "yeast complemented with centromeric plasmids bearing wild-type IRE1 or Δ[+]-box mutant "
                "ire1 either untagged or tagged with the U1A module in the αF–αEF loop, as well as with "
                "centromeric plasmids bearing wild-type HAC1, HAC1U1A, or HAC1 Δ3′ BEU1A. For display "
                "of RT-PCR results, the signal for hac1Δ/ire1Δ yeast complemented with wild-type HAC1 "
                "and IRE1 under ER-stress conditions was set at 100%; mean and s.d. (n = 2) are shown. "
                "Statistical significance in a Student's t-test of differences in splicing levels as "
                "compared with wild-type is indicated in black and of differences in splicing levels "
                "compared with the ‘bypass’ (HAC1U1A + ire1 Δ[+]-box-U1A) is indicated in red (*p ≤ "
                "0.05; **p ≤ 0.01)."
            ),
        },
    ),
    "elife/elife05502.xml": Case(
        ids=(
            "fig1",
            "fig2",
            "fig2s1",
            "fig2s2",
            "fig3",
            "fig3s1",
            "fig4",
            "fig5",
            "fig5s1",
            "fig6",
            "fig7",
            "fig13",
            "fig14",
            "fig8",
            "fig9",
            "fig10",
            "fig11",
            "fig12",
        ),
        labels=(
            "Figure 1.",
            "Figure 2.",
            "Figure 2—figure supplement 1.",
            "Figure 2—figure supplement 2.",
            "Figure 3.",
            "Figure 3—figure supplement 1.",
            "Figure 4.",
            "Figure 5.",
            "Figure 5—figure supplement 1.",
            "Figure 6.",
            "Figure 7.",
            "Box figure 1.",
            "Box figure 2.",
            "Figure 8.",
            "Figure 9.",
            "Figure 10.",
            "Figure 11.",
            "Figure 12.",
        ),
        formula_figs=4,
        captions={
            "fig2s1": (
                "Expression of BMP signaling components during blastoderm. Anterior is to the left. DV "
                "orientation cannot be determined at this stage. The expression of dpp and tsg cannot "
                "be detected by ISH during blastoderm stages between 26 to 28 hpf. gbb and tld show "
                "uniform expression along the embryonic circumference."
            ),
            "fig10": (
                "Pattern formation in two dimensions. Starting from a distribution of NF-κB/Dorsal with "
                "a broad maximum running in parallel to the cylinder's axis (bottom, shown in green), a "
                "stripe of high Sog concentration develops (top, Sog shown in blue, BMP shown in red). "
                "The figures show concentrations at times 0, 1000, 2000, 3000, 4000 from left to right."
            ),
            "fig11": (
                "Independence from the stripe of initial conditions (same data as Figure 10). (top) The "
                "initial distribution of NF-κB/Dorsal from Figure 10 varies along the cylinder's axis "
                "(y-direction of this contour plot, with the x-direction describing the circumference) "
                "in both standard deviation and amplitude by about 10%; d(x, t = 0) = exp{−(5^2)/(2(1 + "
                "0.1 sin(πy/l_y))^2)(x − 2/l_x)^2} (1 + 0.1 sin(πy/l_y)), and decays over time (time "
                "points 0, 1000, 2000, 3000, 4000 shown from left to right). (bottom) The resulting "
                "distribution of Sog (and correspondingly of BMP) becomes uniform along the cylinder "
                "axis."
            ),
        },
    ),
    "elife/elife06003.xml": Case(
        ids=("fig1",),
        labels=("Figure 1.",),
        formula_figs=0,
        captions={
            "fig1": (
                "Analysis of lens membrane lipid 14C content demonstrates a lack of molecular turnover. "
                "(A) The fraction of modern 14C present in the membrane lipids of human lens nuclear "
                "regions. The lipid samples (•) are superimposed over the levels of artificial 14CO2 "
                "present in the atmosphere in the northern hemisphere (light gray) and the southern "
                "hemisphere (dark gray) from 1950 until 1990 (Hua et al., 2013). (B) The correlation "
                "between the predicted year of birth as calculated from the measured fraction of modern "
                "14C present in lens membrane lipids and the actual year of birth of each individual. "
                "The slope was approximately one (0.98 ± 0.04) and the y-intercept was "
                "indistinguishable from zero within the measured error (39 ± 75). Vertical error bars: "
                "± sigma. Horizontal error bars: year of birth ± six months."
            ),
        },
    ),
    "elife/elife06726.xml": Case(
        ids=(
            "fig1",
            "fig1s1",
            "fig1s2",
            "fig2",
            "fig2s1",
            "fig2s2",
            "fig3",
            "fig4",
            "fig5",
        ),
        labels=(
            "Figure 1",
            "Figure 1—figure supplement 1.",
            "Figure 1—figure supplement 2.",
            "Figure 2.",
            "Figure 2—figure supplement 1.",
            "Figure 2—figure supplement 2.",
            "Figure 3.",
            "Figure 4.",
            "Figure 5.",
        ),
        formula_figs=0,
        captions={
            "fig1s2": (
                "Abrogation of Shh signaling abolishes vegfaa expression, but does not influence "
                "angioblast migration. (A, B) Embryos treated with 100 μM Cyclopamine (CyA) from 11 hpf "
                "to 18 hpf to block Sonic hedgehog signaling showed no defects in medial angioblast "
                "migration. Confocal projections of Tg(fli1a:EGFP)y1 embryos in dorsal views at 18 hpf. "
                "c-d) vegfaa expression in the somites is abolished in embryos treated with 100 μM "
                "Cyclopamine (CyA) from 11 hpf to 18 hpf."
            ),
            "fig1": (
                "Angioblast migration to the midline is not regulated by Vegf. (A–F) Schematic (A) and "
                "confocal (B–F) in vivo time-lapse imaging of angioblasts (green) and their migration "
                "in a Tg(fli1a:EGFP)y1 embryo, injected with H2B-mCherry mRNA (purple, all nuclei), "
                "dorsal views at indicated time points. Arrows indicate the initial migration to the "
                "midline, and the coalescing into the dorsal aorta (DA). (G–J) Loss of Vegf-signaling "
                "components by vegfaa/vegfab double morpholino (MO) injection (H) or in vegf receptor 2 "
                "(kdrl) mutants (J) does not affect angioblast migration. Confocal projections of "
                "Tg(fli1a:EGFP)y1 embryos in dorsal views at 17 hpf. For each condition, n > 15."
            ),
            "fig1s1": (
                "Inhibition of Vegfa signaling resulted in normal angioblast migration to the midline, "
                "but impaired sprouting angiogenesis. (A–J) Vegfa signaling was impaired using either "
                "ligand MOs (vegfaa/vegfab MO), chemical inhibition of Vegfr2 signaling (2.5 μM "
                "SLKB1002 [Zhang et al., 2011]) or mutations in the vegfr2 gene (kdrl). Confocal "
                "projections of Tg(fli1a:EGFP)y1 embryos in dorsal views at 17 hpf (A, B, C, G, H, I), "
                "24 hpf (F, J, K, L) and 28 hpf (D, E). At 17 hpf, angioblasts in control embryos as "
                "well as Vegfa signaling deficient embryos arrived at the midline (A, B, C, G, H, I). "
                "Control embryos showed sprouting of the intersegmental vessels (D, F, K) whereas Vegfa "
                "signaling deficient embryos lacked the intersegmental vessels (E, J, I)."
            ),
        },
    ),
    "elife/elife09853.xml": Case(
        ids=("fig1",),
        labels=("Figure 1.",),
        formula_figs=0,
        captions={
            "fig1": (
                "Protein and RNA accumulations can take on multiple forms within a cell. Kroschwald et "
                "al. report that, under healthy physiological conditions, P bodies in yeast and mammals "
                "and stress granules in mammals form liquid-like spheres (with weak bonds). Yeast "
                "stress granules form amorphous, unstructured solids, which are similar to aggregates "
                "of misfolded proteins. In several neurodegenerative diseases, insoluble deposits of "
                "proteins form structured assemblies with strong bonds, which are difficult to break "
                "down within cells. So-called ‘amyloid deposits’ are an example of this type of protein "
                "accumulation. These different states of matter are likely within a continuum, and the "
                "constituent components may undergo phase transitions to switch between different "
                "states under certain conditions. The color of the dashed lines indicates whether the "
                "states of matter on the continuum are considered healthy (“physiological”; blue) or "
                "potentially diseased (“pathological?”; purple) in mammals (top) and yeast (bottom). It "
                "is important to note that amyloid states in yeast (and potentially in mammals) can "
                "also be used for normal physiological processes."
            ),
        },
    ),
    "pmc/1471-2180-11-174.nxml": Case(
        ids=(
            "F1",
            "F2",
            "F3",
            "F4",
        ),
        labels=(
            "Figure 1",
            "Figure 2",
            "Figure 3",
            "Figure 4",
        ),
        formula_figs=0,
        captions={
            "F4": (
                "Effects of tKCN (timing of KCN addition). (A) On time delay tL - tKCN. The solid curve "
                "shows the quadratic fit of y = 54.52 - 1.09x + 0.02(x - 36.57)2. Error bars indicate "
                "the associated SDs. As an example, when tKCN = 45 min, the observed tL is 50.11 min, "
                "thus the time delay is tL - tKCN = 5.11 min. (B) On lysis time SD (closed circles) and "
                "CV (closed triangles). Solid curve shows the quadratic fit of SD against tKCN (y = "
                "13.24 - 0.28x + 0.01(x - 36.57)2)."
            ),
            "F2": (
                "Samples of a lysis recording and frequency distributions of various experimental "
                "treatments. (A) Sample recordings from strain IN63. It takes about 5 sec for the upper "
                "left cell to disappear from view. (B) Sample frequency distributions of lysis times "
                "from strains IN56, IN67, IN68, SYP028, IN56 with KCN added at 55 min after thermal "
                "induction, and IN56 grown in glycerol minimal salts medium. The bin size was 2 min. "
                "Additional data are shown in Tables 1 and 2."
            ),
        },
    ),
    "pmc/ehp-116-1694.nxml": Case(
        ids=(
            "f1-ehp-116-1694",
            "f2-ehp-116-1694",
            "f3-ehp-116-1694",
        ),
        labels=(
            "Figure 1",
            "Figure 2",
            "Figure 3",
        ),
        formula_figs=0,
        captions={
            "f1-ehp-116-1694": (
                "Exposure to PBDE-47 depressed circulating concentrations of total T4 in males and "
                "females (A), but had no effect on total T3 in males (B). *p < 0.05 compared with "
                "control."
            ),
            "f2-ehp-116-1694": (
                "Dietary exposure to PBDE-47 altered relative transcripts levels for TSHβ (A) and GPHα "
                "(B) in the pituitary gland. Transcript levels are expressed relative to template RNA "
                "levels. *p < 0.05 compared with control."
            ),
            "f3-ehp-116-1694": (
                "Dietary PBDE-47 exposure elevated mRNA levels for TRα in females (A), and reduced mRNA "
                "levels for TRβ in both sexes (B). PBDE-47 exposure also reduced gene transcripts for "
                "BTEB in the brain of male, but not female, minnows (C). Transcript levels are "
                "normalized to 18S. *p < 0.05 compared to control."
            ),
        },
    ),
    "pmc/mds526.nxml": Case(
        ids=(
            "MDS526F1",
            "MDS526F2",
        ),
        labels=(
            "Figure 1.",
            "Figure 2.",
        ),
        formula_figs=0,
        captions={
            "MDS526F1": (
                "Deprivation inequalities in advanced stage at diagnosis by cancer (odds ratios and 95% "
                "confidence intervals for diagnosis in stage III/ IV versus I/II)."
            ),
            "MDS526F2": (
                "Age inequalities in advanced stage diagnosis in patients ≥65 by cancer (odds ratios "
                "and 95% confidence intervals for diagnosis in stage III/ IV versus I/II)."
            ),
        },
    ),
    "pmc/pntd.0002065.nxml": Case(
        ids=("pntd-0002065-g001",),
        labels=("Figure 1",),
        formula_figs=0,
        captions={
            "pntd-0002065-g001": (
                "Location of the study areas. Figure 1 shows the map of the Zambézia Province, "
                "Mozambique indicating the location of the study areas. In 2007, the collection points "
                "for the baseline study were in 5 districts namely Maganja da Costa, Mocuba, Mopeia, "
                "Morrumbala and Nicoadala (black rectangle). In 2010, the study was carried out in "
                "different locations of the Mopeia (red circle) and in Nicoadala districts. Three "
                "perennial rivers that drain the Mopeia district namely Zambeze, Cuacua and Chire "
                "Rivers are highlighted in blue."
            ),
        },
    ),
    "pmc/pone.0000217.nxml": Case(
        ids=(
            "pone-0000217-g001",
            "pone-0000217-g002",
            "pone-0000217-g003",
        ),
        labels=(
            "Figure 1",
            "Figure 2",
            "Figure 3",
        ),
        formula_figs=0,
        captions={
            "pone-0000217-g002": (
                "Predicted equilibrium fitness as a function of phenotypic complexity (ne). Results are "
                "shown for populations of size 100 (black), ten (grey), and three (white). An "
                "exponential fitness decline in which Q = 1 was used (yielding a fitness function of "
                "f(d) = exp(−d)). Circles indicate the average fitness reached in the simulation model; "
                "curves indicate the analytical results."
            ),
            "pone-0000217-g003": (
                "Equilibrium drift load as a function of population size for vesicular stomatitis virus "
                "and ΦX174. Each point indicates the mean fitness of a population. The VSV populations "
                "are shown in dark grey and the ΦX174 are shown in white. Some points have been "
                "displaced on the x-axis for clarity. The VSV populations were transferred at effective "
                "population sizes of four, ten, and 60; the ΦX174 populations were transferred at "
                "effective population sizes of 15, 50, 150, 500, and 1250. The dotted lines specify the "
                "maximum likelihood estimate of the fref value (the maximum attainable fitness); the "
                "dark dotted line indicates the value for VSV and the lighter dashed line indicates the "
                "value for ΦX174."
            ),
        },
    ),
    "pmc/pone.0046493.nxml": Case(
        ids=(
            "pone-0046493-g001",
            "pone-0046493-g002",
            "pone-0046493-g003",
            "pone-0046493-g004",
        ),
        labels=(
            "Figure 1",
            "Figure 2",
            "Figure 3",
            "Figure 4",
        ),
        formula_figs=0,
        captions={
            "pone-0046493-g001": (
                "Chemical structure of inhibitors. Chemical structures of A, THL and B, MmPPOX. The "
                "proposed mechanism of action involves the opening of the cycle in each molecule. "
                "Nucleophilic sites attacked by catalytic serine are indicated by an arrow. Theoretical "
                "exact masses were calculated using the online calculator provided by SIS, Inc. "
                "(http://www.sisweb.com/referenc/tools/exactmass.htm)."
            ),
            "pone-0046493-g004": (
                "Antimycobacterial activity of MmPPOX and THL. Susceptibilities of M. tuberculosis were "
                "determined on solid medium with increasing inhibitor concentrations (1–20 µg/mL). "
                "Serial 10-fold dilutions (indicated on plates) of an actively growing culture were "
                "plated and incubated at 37°C for 2–3 weeks. MIC were defined as the minimum "
                "concentration required to inhibit 99% of the growth. MIC against M. tuberculosis and "
                "M. bovis BCG are indicated with a star and estimated to be 20 and 7.5 µg/ml for THL "
                "and >20 (around 25) and between 10–20 µg/mL for MmPPOX, respectively."
            ),
            "pone-0046493-g003": (
                "Protein-inhibitor adducts studies using mass spectrometry. Global mass modifications "
                "of A, LipH; B, LipN and C, LipY after 30 min incubation with MmPPOX at a molar excess "
                "of 20 (xI = 20). D, PMF spectra of LipN before (top) and after (bottom) 30 min "
                "incubation with MmPPOX at a molar excess of 20 (xI = 20). Only two parts of interest "
                "are shown: left part, area for a catalytic peptide, containing the unmodified "
                "catalytic Serine (m/z, 2001.0); right part, area expected for the appearance of a new "
                "signal for the catalytic peptide following reaction of the catalytic Serine with "
                "MmPPOX (m/z, 2285.0; δ = +284.0). Note that, for the sake of clarity, different "
                "vertical scales were chosen for the left parts, but identical vertical scales were "
                "chosen for the right parts."
            ),
        },
    ),
}
