"""Apache Beam pipelines over the pmc15m library: the only package that imports Beam."""
