"""Declared column schemas of the dataset's outputs, as JSON data files.

The schemas live in JSON rather than in Python so that readers outside this code base (the
dataset card, a Hub viewer, someone with only ``jq``) can see the columns, and they live in a
package so the files ship inside the wheel and ``importlib.resources`` finds them wherever the
code is installed (a Beam worker included). ``pmc15m.shards.schema`` turns them into Arrow schemas.
"""
