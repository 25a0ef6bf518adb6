"""Jinja filters for this template (loaded through `_extensions`).

`quoted` turns any answer into one double-quoted string literal that is valid
Python, TOML, YAML and JSON, so names with quotes, backslashes or non-ASCII
letters never break a generated file.
"""

import json

from jinja2.ext import Extension


def quoted(value: object) -> str:
    # json.dumps escapes quotes, backslashes and control characters; TOML
    # also forbids a raw DEL character, so escape that one too.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


class QuotedExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["quoted"] = quoted
