"""The YAML loader every bundled data file is read with.

libyaml's loader (when PyYAML has it) is several times faster and keeps the same position marks; the
pure-Python one words some errors more precisely, so rule files re-read a document libyaml rejects.
"""

from __future__ import annotations

import yaml

FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
