"""A finished build shown and shipped: ``report_stats`` (the statistics), ``report`` (the page)
with ``report_plots``, ``card`` (the dataset card) with ``card_text`` and ``card_features``,
and ``hub`` (the license gate and the upload to the Hugging Face Hub).

May import: ``core``, ``storage``, ``rules``, ``shards``.
"""
