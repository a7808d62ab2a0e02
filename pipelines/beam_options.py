"""Which command-line flags Beam's pipeline options understand.

Beam itself only warns about (and drops) a flag it does not know, so a mistyped
``--direct_num_wokers`` would silently build with one worker; the CLI refuses it instead.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions


def unknown_beam_flags(flags: list[str]) -> list[str]:
    """The flags in ``flags`` that no registered PipelineOptions class declares."""
    from apache_beam.options.pipeline_options import _BeamArgumentParser

    parser = _BeamArgumentParser(allow_abbrev=False)
    seen: dict[str, type] = {}
    for cls in PipelineOptions.__subclasses__():
        seen.setdefault(str(cls), cls)
    for cls in seen.values():
        cls._add_argparse_args(parser)
    _, unknown = parser.parse_known_args(flags)
    return [flag for flag in unknown if flag.startswith("-")]
