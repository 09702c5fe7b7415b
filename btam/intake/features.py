"""What surge grouping compares, computed at intake without keeping anything readable:
keyed hashes of the names a report gives and of the links in its text, and a 64-bit similarity
signature of its text (similar texts have signatures a few bits apart; see :func:`simhash`)."""

from __future__ import annotations

import array
import functools
import hashlib
import re
import sys
from typing import Any
from urllib.parse import urlsplit

from btam.intake.receipt import keyed_hash
from btam.people.search import normalize

_URL = re.compile(r"(?i)\b((?:https?://|www\.)[^\s<>\"']+)")
_TRAILING = ".,;:!?)]}'\""
_TRACKING_PARAMS = re.compile(r"(?i)^(utm_[a-z]+|fbclid|gclid|igshid|si|s|t|ref|feature)$")
MAX_LINKS = 20


def name_key(name: str) -> str:
    """Keyed hash of a name, insensitive to case, accents, punctuation and word order."""
    words = sorted(normalize(name).split())
    return keyed_hash(" ".join(words), purpose="name") if words else ""


def normalize_link(raw: str) -> str | None:
    """One form per link: no scheme, no www., no tracking parameters, no trailing slash."""
    text = raw.rstrip(_TRAILING)
    if text.lower().startswith("www."):
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if not host or "." not in host:
        return None
    query = "&".join(sorted(p for p in parts.query.split("&") if p and not _TRACKING_PARAMS.match(p.split("=", 1)[0])))
    path = parts.path.rstrip("/")
    return f"{host}{path}" + (f"?{query}" if query else "")


def link_keys(text: str) -> list[str]:
    """Keyed hashes of the distinct links in ``text`` (at most MAX_LINKS)."""
    keys: list[str] = []
    for match in _URL.finditer(text):
        link = normalize_link(match.group(1))
        if link is None:
            continue
        key = keyed_hash(link, purpose="link")
        if key not in keys:
            keys.append(key)
        if len(keys) >= MAX_LINKS:
            break
    return keys


SIGNATURE_BITS = 64
if array.array("I").itemsize != 4:  # pragma: no cover (every platform CPython supports here)
    raise ImportError("btam.intake.features needs 32-bit unsigned array items.")
_PARTS = 4  # 4 x 64 bytes of keyed BLAKE2b per word: one 32-bit hash per bit of the signature


def _signature_key() -> bytes:
    return bytes.fromhex(keyed_hash("", purpose="text-signature"))


@functools.lru_cache(maxsize=4)
def _keyed_hashers(key: bytes) -> tuple[Any, ...]:
    """The four keyed BLAKE2b states of the signature, before any data: each word's hashes are
    copies of them fed the word (the same digests as ``hashlib.blake2b(word, key=key, ...)``, without
    processing the key block again for every word and part)."""
    return tuple(hashlib.blake2b(key=key, digest_size=64, person=b"btam-textsig-%d" % part) for part in range(_PARTS))


# The most common words of reports, in English and Spanish as normalize() leaves them (lower case,
# no accents). Their hashes are made once per process and key (_common_digests), not for every
# report: in a report of a few sentences they are a third to a half of the distinct words. A fixed
# list, so what the process keeps holds no word of any report.
COMMON_WORDS = frozenset(
    """
    a about after again all also am an and any are around as at away back bad be because been before
    being both but by came can could day did didn do does don doing down during each even ever every
    few for from get gets getting go going gone got had has have having he her here him his how i if
    in into is it its just kids know last later like made make many may me might more most much my
    never new next no nobody not now of off often on once one only or other our out over people put
    really right s said same saw say saying says school see seemed she should since so some someone
    something still student students such t take teacher than that the their them then there these
    they thing things think this those through time to today told too two up us very want was we week
    well went were what when where which while who why will with won would yesterday you your
    al algo alguien ahora aqui asi bien cada casa como con contra cuando de del dentro desde dia dice
    dijo donde dos el ella ellos en entre era es esa ese eso esta estaba estan este esto estudiante
    fue ha hace hay la las le les lo los mas me mi muy nada ni no nos o otra otro para pero por porque
    que quien se semana ser si sin sobre solo su sus tambien te tiene todo todos tu un una uno y ya yo
    """.split()
)


@functools.lru_cache(maxsize=4)
def _common_digests(key: bytes) -> dict[str, bytes]:
    """The four digests of each COMMON_WORDS word, joined, as simhash computes them for any word."""
    hashers = _keyed_hashers(key)
    out: dict[str, bytes] = {}
    for word in COMMON_WORDS:
        parts = []
        for hasher in hashers:
            h = hasher.copy()
            h.update(word.encode())
            parts.append(h.digest())
        out[word] = b"".join(parts)
    return out


def simhash(text: str) -> int | None:
    """A 64-bit similarity signature of the text's words, compared by Hamming distance (:func:`hamming`),
    as a signed 64-bit integer (for a BigIntegerField); None for text too short to compare
    meaningfully (under 5 words).

    It is a keyed one-bit MinHash of the set of normalised words: each bit is the lowest bit of the
    smallest of the words' hashes under one of 64 keyed hash functions. Two texts whose distinct
    words overlap by a fraction J (Jaccard) differ in about 32 x (1 - J) bits. Measured: the same
    20-word sentence with one word changed differs in 3 bits (median; 4 or fewer 3 times in 4,
    50 words: 1 bit), a copy with other capitals or punctuation in none, unrelated texts in 17 or
    more. Word order does not count. (The first version, a SimHash of word 3-shingles, put the
    one-word edit of a 20-word sentence a median 10 bits away, and within 3 bits once in 200
    trials, while unrelated report-like texts came as close as 5 bits: no threshold separated them.)

    Keyed (``BTAM_RECEIPT_KEY``): without the key nobody can compute the signature of a guessed text
    and compare it with the stored ones.
    """
    words = normalize(text).split()
    if len(words) < 5:
        return None
    key = _signature_key()
    h0, h1, h2, h3 = _keyed_hashers(key)
    common = _common_digests(key)
    # 64 big-endian 32-bit hashes per word (the four digests of its four hash states), all words
    # in one array; then the smallest of each column (hash function), a C-level slice and min each.
    digests: list[bytes] = []
    add = digests.append
    for word in set(words):
        known = common.get(word)
        if known is not None:
            add(known)
            continue
        data = word.encode()
        a, b, c, d = h0.copy(), h1.copy(), h2.copy(), h3.copy()
        a.update(data)
        b.update(data)
        c.update(data)
        d.update(data)
        add(a.digest())
        add(b.digest())
        add(c.digest())
        add(d.digest())
    hashes = array.array("I", b"".join(digests))
    if sys.byteorder == "little":
        hashes.byteswap()  # the digests' bytes are big-endian numbers
    value = 0
    for bit in range(SIGNATURE_BITS):
        if min(hashes[bit::SIGNATURE_BITS]) & 1:
            value |= 1 << bit
    return value - (1 << 64) if value >= 1 << 63 else value


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()
