"""A small model of a chip's product name: what a name says, whoever printed it.

NVML, Kubernetes GPU Feature Discovery, ``amd-smi``, ``/proc/cpuinfo`` and purchase orders spell
one chip many ways ("NVIDIA H100 80GB HBM3", "NVIDIA-H100-80GB-HBM3", "H100 SXM5 80GB"). Instead of
matching substrings, a name is parsed into the parts that identify a chip: vendor, model tokens
(the words that carry a model number, such as ``h100``, ``mi300x``, ``8480+``), variant or form
factor (SXM, PCIe, NVL, OAM), memory size and memory type, and the remaining plain words. The
catalogue matches a query's parts against each record's parts (``NameModel.admits``); a query
that names no model token identifies nothing, so "N/A", "1" or "GPU" can never pick a chip.

Text is folded first (NFKC, then common Cyrillic and Greek look-alikes to Latin), so that a
name written with homoglyphs parses like the name it imitates (``confusable_key``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Cyrillic and Greek letters that render like Latin ones (Unicode confusables, the common subset).
_CONFUSABLES = str.maketrans({
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԛ": "Q", "Ԝ": "W",
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "х": "x", "у": "y", "і": "i", "ј": "j", "ѕ": "s", "ԛ": "q", "ԝ": "w", "ь": "b", "һ": "h", "ӏ": "l",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "κ": "k", "τ": "t", "ι": "i", "υ": "u", "χ": "x", "ε": "e",
})

# Vendor words, as vendors' tools print them, mapped to the catalogue's vendor (lower case).
VENDOR_WORDS = {
    "nvidia": "nvidia", "amd": "amd", "intel": "intel", "habana": "intel", "google": "google",
    "aws": "aws", "amazon": "aws", "huawei": "huawei", "hisilicon": "huawei", "cambricon": "cambricon",
    "biren": "biren", "groq": "groq", "tenstorrent": "tenstorrent", "cerebras": "cerebras",
}

# Words that say what kind of thing it is, never which one: ignored when a record lacks them.
_GENERIC = frozenset({
    "gpu", "gpus", "tensor", "core", "cores", "accelerator", "graphics", "card", "processor", "module",
    "datacenter", "device", "the", "with", "and", "of", "corporation", "corp", "inc", "ltd", "co",
    "hgx", "dgx", "board", "edition", "series", "family",
})

# Words that name a system or baseboard of several chips (a DGX B200 holds eight B200): such a name
# resolves only as an exact name or alias, never by its parts, or a count of systems reads as chips.
_SYSTEM_WORDS = frozenset({"hgx", "dgx"})

# Spelled-out noise that vendors' tools add: trademarks, core counts, clocks, power, partitions.
_TRADEMARK = re.compile(r"\((?:r|tm|c)\)|[®™©]")
_CORES = re.compile(r"\b(\d+)[- ]?cores?\b")
_CLOCK = re.compile(r"(?:\bcpu\s*)?@\s*\d+(?:\.\d+)?\s*[gm]hz|\b\d+(?:\.\d+)?\s*[gm]hz\b")
_POWER = re.compile(r"\b(\d+)\s*w\b")
_MEMORY_SIZE = re.compile(r"\b(\d{1,4})\s*(?:gb|gib)\b")
_TOKEN = re.compile(r"[a-z0-9]+\+?")
_MEMORY_TYPE = re.compile(r"^(?:hbm\d?e?|gddr\d+x?|lpddr\d+x?|ddr\d+)$")
_PARTITION = re.compile(r"^(?:nps\d|spx|dpx|qpx|gen\d)$")  # AMD partition modes, PCIe generations
_VARIANT = re.compile(r"^(sxm|pcie|nvl|oam)(\d*)$")
_SHORT_NUMBER = re.compile(r"^\d{1,2}\+?$")
_ALPHA_THEN_DIGITS = re.compile(r"^([a-z]{3,})(\d.*)$")


def fold(text: str) -> str:
    """NFKC, look-alike letters to Latin, lower case: the form every comparison uses."""
    return unicodedata.normalize("NFKC", text).translate(_CONFUSABLES).casefold()


def invisible_character(text: str) -> str | None:
    """The first control or invisible format character of ``text`` (an ESC, a NUL, a zero-width
    space, a right-to-left override), whitespace aside; None if it has none. A name holding one
    is garbled, not spelled: read past, what is left can name something the text did not."""
    return next((ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf") and not ch.isspace()), None)


def confusable_key(text: str) -> str:
    """Letters and digits of the folded text: two names with one key look the same to a reader."""
    return "".join(ch for ch in fold(text) if ch.isalnum() or ch == "+")


@dataclass(frozen=True, slots=True)
class ProductName:
    """The parts of one product name."""

    key: str                      # folded letters, digits and '+', vendor prefix dropped (exact lookups)
    vendors: frozenset[str]
    models: frozenset[str]        # tokens holding a model number: h100, mi300x, 8480+, gaudi2
    words: frozenset[str]         # every other plain word
    variants: frozenset[str]      # sxm, sxm5, pcie, nvl, oam (with and without generation)
    memory_gb: frozenset[int]
    memory_types: frozenset[str]  # hbm3, hbm3e, gddr6x, ...
    watts: frozenset[int]         # board power: the same GPU ships at several (B200 at 1000 and 1200 W)
    cores: frozenset[int]         # "72-core": a Grace CPU, where "144-core" is the two-CPU superchip


def parse(text: str) -> ProductName:
    """The parts of ``text``, after the noise vendors' tools add has been taken out."""
    folded = _TRADEMARK.sub(" ", fold(text))
    folded = _CLOCK.sub(" ", folded)
    key_tokens = _TOKEN.findall(folded)
    cores = frozenset(int(c) for c in _CORES.findall(folded))
    folded = _CORES.sub(" ", folded)
    memory_gb = frozenset(int(m) for m in _MEMORY_SIZE.findall(folded))
    watts = frozenset(int(w) for w in _POWER.findall(folded))
    raw = _TOKEN.findall(_POWER.sub(" ", _MEMORY_SIZE.sub(" ", folded)))
    vendors = frozenset(VENDOR_WORDS[t] for t in raw if t in VENDOR_WORDS)
    while key_tokens and key_tokens[0] in VENDOR_WORDS:  # "NVIDIA H100 PCIe" is "H100 PCIe"
        key_tokens.pop(0)
    tokens: list[str] = []
    for token in raw:
        split = _ALPHA_THEN_DIGITS.match(token)  # "rtx4090" is "rtx 4090", "ascend910b" "ascend 910b"
        tokens.extend(split.groups() if split and not _VARIANT.match(token) and not _MEMORY_TYPE.match(token)
                      else (token,))
    merged: list[str] = []
    for token in tokens:  # a short number belongs to the word before it: "Gaudi 2" is "gaudi2"
        if _SHORT_NUMBER.match(token) and merged and merged[-1].isalpha() and merged[-1] not in VENDOR_WORDS:
            merged[-1] += token
        else:
            merged.append(token)
    models, words, variants, memory_types = set(), set(), set(), set()
    for token in merged:
        variant = _VARIANT.match(token)
        if token in VENDOR_WORDS or _PARTITION.match(token):
            continue
        if variant:
            variants.update({variant.group(1), token})
        elif _MEMORY_TYPE.match(token):
            memory_types.add(token)
        elif any(ch.isdigit() for ch in token) and not _SHORT_NUMBER.match(token):
            models.add(token)
        else:
            words.add(token)
    if "nvl" in variants:
        variants.add("pcie")  # H100 NVL and H200 NVL are PCIe cards
    key = "".join(key_tokens)
    return ProductName(key, vendors, frozenset(models), frozenset(words), frozenset(variants),
                       memory_gb, frozenset(memory_types), watts, cores)


_OWN_VARIANTS = ("sxm", "pcie", "nvl", "oam")


@dataclass(frozen=True, slots=True)
class NameModel:
    """What a catalogue record answers to, gathered from its id, name, aliases and spec."""

    vendor: str
    models: frozenset[str]
    vocabulary: frozenset[str]    # every model token and word of every name
    variants: frozenset[str]
    own_variants: frozenset[str]  # the base forms its names state (NVL), without implied ones (PCIe)
    memory_gb: frozenset[int]
    memory_types: frozenset[str]
    watts: frozenset[int]
    cores: frozenset[int]

    @classmethod
    def of(cls, vendor: str, names: Iterable[str], architecture: str | None = None,
           capacity_gb: float | None = None, memory_type: str | None = None) -> NameModel:
        parts = [parse(n) for n in names]
        context = parse(f"{architecture or ''} {memory_type or ''}")
        models = frozenset().union(*(p.models for p in parts))
        words = frozenset().union(*(p.words for p in parts), context.words, context.models, _vendor_words(vendor))
        own = frozenset(v for p in parts for v in p.variants if v in _OWN_VARIANTS and not (v == "pcie" and "nvl" in p.variants))
        variants = frozenset().union(*(p.variants for p in parts))
        memory = frozenset().union(*(p.memory_gb for p in parts))
        if capacity_gb is not None and float(capacity_gb).is_integer():
            memory |= {int(capacity_gb)}
        types = frozenset(t for t in context.memory_types if t != "hbm")  # bare "HBM" says no generation
        watts = frozenset().union(*(p.watts for p in parts))
        cores = frozenset().union(*(p.cores for p in parts))
        return cls(vendor.casefold(), models, models | words, variants, own, memory, types, watts, cores)

    def admits(self, query: ProductName) -> bool:
        """Does every part of ``query`` fit this record, and does it name one of its model tokens?"""
        if not query.models or not query.models <= self.models or query.words & _SYSTEM_WORDS:
            return False
        if query.vendors and not query.vendors <= {VENDOR_WORDS.get(self.vendor, self.vendor)}:
            return False
        if not query.words <= self.vocabulary | _GENERIC:
            return False
        if query.variants and (not query.variants <= self.variants or not self.own_variants <= query.variants):
            return False
        if query.memory_gb and self.memory_gb and not query.memory_gb <= self.memory_gb:
            return False
        if query.watts and self.watts and not query.watts <= self.watts:
            return False
        if query.cores and self.cores and not query.cores <= self.cores:
            return False
        stated_types = {t for t in query.memory_types if t != "hbm"}
        return not (stated_types and self.memory_types and not stated_types <= self.memory_types)


def stated_words(names: Iterable[str]) -> frozenset[str]:
    """The plain words every one of ``names`` carries ("geforce", "rtx", "ti"), generic ones aside."""
    return frozenset.intersection(*(parse(n).words for n in names)) - _GENERIC


def _vendor_words(vendor: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(fold(vendor)))
