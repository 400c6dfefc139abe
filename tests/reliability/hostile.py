"""Hostile values for the fuzz tests: strings, paths, URLs and model ids, and the pools they are drawn from."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from hypothesis import strategies as st

# An id shaped like a real model id (@cf|@hf/<author>/<name>, no '..'): judged independently of the server's regex.
SAFE_MODEL_ID = re.compile(r"@(?:cf|hf)/[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
CRAFTED_MODEL_IDS = (
    "@cf/../../user/tokens",
    "@cf/a/b?c",
    "@cf/%2e%2e/%2e%2e/user/tokens",
    "@cf/meta/%2E%2E%2F%2E%2E%2Fuser",
    "@cf/meta/../../../accounts",
    "@cf/a/b#fragment",
    "@cf/a/b/../../c",
    "@cf//tokens",
    "@cf/a/b\n",
    "@cf/a/b c",
    "@cf/a/b\x00",
    "@cf/a/..",
    "@cf/./b",
    "@cf/a/b/",
    "/@cf/a/b",
    "@cf\\a\\b",
    "@cf/a/b;x=1",
    "@cf/a/b?queueRequest=true",
    "@cf/meta/llama%2F..%2F..",
    "@hf/a/%2e%2e",
    "＠cf/meta/llama",
    "@cf/mеta/llama",  # Cyrillic е
    "https://api.cloudflare.com/client/v4/user/tokens",
    "@cf/a/b\u202e",
)
SENSITIVE_PATHS = (
    "../../etc/passwd",
    "~/.ssh/id_rsa",
    "/proc/self/environ",
    "file:///etc/shadow",
    "/etc/passwd",
    "file://localhost/etc/passwd",
    "file://example.invalid/etc/passwd",
    "%2e%2e/%2e%2e/etc/passwd",
    "....//....//etc/passwd",
    "..\\..\\windows\\win.ini",
    "/dev/zero",
    "/proc/self/fd/0",
    "/",
    "..",
    "~",
)
OTHER_SCHEMES = (
    "gopher://127.0.0.1:70/_GET",
    "ftp://127.0.0.1/cat.png",
    "dict://127.0.0.1:11211/stat",
    "ldap://127.0.0.1/",
    "jar:http://127.0.0.1/x!/y",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
)
# Hosts that are, or name, a refused address; the canary's port is added to each.
PRIVATE_HOSTS = (
    "127.0.0.1",
    "localhost",
    "localhost.",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "0x7f.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[0:0:0:0:0:ffff:7f00:1]",
    "[64:ff9b::7f00:1]",
    "0.0.0.0",
    "[::]",
    "169.254.169.254",
    "[fe80::1]",
    "10.0.0.1",
    "192.168.1.1",
    "172.16.0.1",
    "100.64.0.1",
)
UNICODE_EDGES = (
    "\u202e",
    "\ufeff",
    "\u200b",
    "\u200d",
    "e\u0301",
    "\U0001f469\u200d\U0001f4bb",
    "İ",
    "ß",
    "ﬁ",
    "\uffff",
    "\U0010ffff",
    "\u2028",
    "\u2029",
    "Ω",
    "\x00",
    "\x1b[31m",
)
# Markers of internals that must never appear in a result unless the caller sent them.
INTERNALS = ("Traceback", 'File "', "/work/", "site-packages")
CONTROL = "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
_HUGE = (20_001, 131_073, 1_100_000)


@dataclass(frozen=True)
class Drawn:
    """One argument set and what the server may do with it."""

    arguments: dict[str, Any]
    refusable: bool


@dataclass(frozen=True)
class Pools:
    """Run-time values: good media inputs, refused media inputs, and extra hostile strings."""

    good_media: Sequence[str]
    refused_media: Sequence[str]
    extra: Sequence[str]


def hostile_strings(pools: Pools) -> st.SearchStrategy[str]:
    fixed = (*SENSITIVE_PATHS, *OTHER_SCHEMES, *CRAFTED_MODEL_IDS, *UNICODE_EDGES, *pools.refused_media, *pools.extra)
    return st.one_of(
        st.text(max_size=40),
        st.text(alphabet=CONTROL, min_size=1, max_size=20),
        st.sampled_from(fixed),
        st.tuples(st.sampled_from(fixed), st.text(alphabet=CONTROL + "./%~", max_size=6)).map("".join),
        huge_strings(),
    )


def huge_strings() -> st.SearchStrategy[str]:
    """20 K to 1.1 M characters of one repeated unit."""
    return st.tuples(st.sampled_from(("A", "é", "😀", "../")), st.sampled_from(_HUGE)).map(_repeat)


def model_ids() -> st.SearchStrategy[str]:
    segment = st.one_of(
        st.from_regex(r"[a-z0-9][a-z0-9.-]{0,12}", fullmatch=True),
        st.sampled_from(("..", ".", "%2e%2e", "%2F", "a?b", "a#b", "a b", "a\nb", "", "~", "a/../b", "\\")),
    )
    prefix = st.sampled_from(("@cf", "@hf", "@CF", "cf", "@cf%2f", "＠cf", "@cf/"))
    return st.one_of(
        st.sampled_from(CRAFTED_MODEL_IDS),
        st.tuples(prefix, segment, segment).map("/".join),
        st.tuples(st.just("@cf"), segment, segment).map("/".join),
    )


def strings_in(value: object) -> list[str]:
    """Every string inside a JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in cast(dict[str, Any], value).items() for s in (key, *strings_in(item))]
    if isinstance(value, list):
        return [s for item in cast(list[Any], value) for s in strings_in(item)]
    return []


def _repeat(unit_and_size: tuple[str, int]) -> str:
    unit, size = unit_and_size
    return unit * (size // len(unit))
