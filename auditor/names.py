"""License names and URLs as people write them, mapped to catalog keys.

README prose says "Apache License 2.0", "the MIT license", "Llama 3.1 Community
License", "Baichuan 2 模型社区许可协议"; badges say "Apache_2.0". A name that
could mean several licenses maps to nothing: the caller reports it as unknown.
"""

from __future__ import annotations

import re

from auditor.signatures import AMBIGUOUS_HUB_IDS, Catalog, catalog

# Names the catalog does not carry in these words: our own facts, reviewed like data.
ALIASES: dict[str, str] = {
    "apache2": "apache-2.0",
    "apache v2": "apache-2.0",
    "mit": "mit",
    "expat": "mit",
    "bsd 3 clause": "bsd-new",
    "bsd 2 clause": "bsd-simplified",
    "gplv2": "gpl-2.0",
    "gplv3": "gpl-3.0",
    "gpl 3": "gpl-3.0",
    "gpl 2": "gpl-2.0",
    "agplv3": "agpl-3.0",
    "lgplv3": "lgpl-3.0",
    "lgplv2 1": "lgpl-2.1",
    "mpl 2": "mpl-2.0",
    "cc by 4": "cc-by-4.0",
    "cc by sa 4": "cc-by-sa-4.0",
    "cc by nc 4": "cc-by-nc-4.0",
    "cc by nc sa 4": "cc-by-nc-sa-4.0",
    "cc0": "cc0-1.0",
    "llama 2 community": "llama-2-license-2023",
    "llama 2": "llama-2-license-2023",
    "llama 3 community": "llama3",
    "meta llama 3 community": "llama3",
    "llama 3": "llama3",
    "llama 3 1 community": "llama-3.1-license-2024",
    "llama 3 1": "llama-3.1-license-2024",
    "llama 3 2 community": "llama-3.2-license-2024",
    "llama 3 2": "llama-3.2-license-2024",
    "llama 3 3 community": "llama-3.3-license-2024",
    "llama 3 3": "llama-3.3-license-2024",
    "llama 4 community": "llama-4-cla-2025",
    "llama 4": "llama-4-cla-2025",
    "deepseek": "deepseek-la-1.0",
    "deepseek model": "deepseek-la-1.0",
    "tongyi qianwen": "tongyi-qianwen-2023",
    "tongyi qianwen research": "tongyi-qianwen-research",
    "qwen": "qwen-2024",
    "qwen research": "tongyi-qianwen-research",
    "creativeml openrail m": "stable-diffusion-2022-08-22",
    "bigscience openrail m": "bigscience-open-rail-m",
    "bigscience bloom rail 1 0": "bigscience-rail-1.0",
    "bigcode openrail m": "bigcode-open-rail-m-v1",
    "baichuan 2 model community": "baichuan2-community",
    "baichuan2 model community": "baichuan2-community",
    "baichuan 2 模型社区许可协议": "baichuan2-community",
    "baichuan2 模型社区许可协议": "baichuan2-community",
    "chatglm 6b model": "chatglm-6b-model",
    "chatglm2 6b model": "chatglm2-6b-model",
    "chatglm3 6b model": "chatglm3-6b-model",
    "codegeex2 model": "codegeex2-model",
    "falcon 2 11b tii": "falcon-2-11b-1.0",
    "stability ai community": "stability-ai-community-2024",
    "nvidia open model": "nvidia-open-model-2025-04-28",
    "tencent hunyuan community": "tencent-hunyuan-community",
    "minimax model": "minimax-model",
    "dbrx open model": "dbrx-open-model",
}

# Normalized names that stand for no one license ("the Model License", "GPL"): a
# statement using one needs its link to say which.
GENERIC = frozenset(
    {
        "",
        "model",
        "community",
        "model community",
        "research",
        "open source",
        "weights",
        "model weights",
        "creative commons",
        "cc",
        "bsd",
        "gpl",
        "lgpl",
        "agpl",
        "fdl",
        "custom",
        "other",
        "proprietary",
        "commercial",
        "non commercial",
        "noncommercial",
        "this",
        "模型许可协议",
        "模型许可",
        "许可协议",
        "模型协议",
        "模型社区许可协议",
        "社区许可协议",
    }
)

_DROP = {
    "the",
    "license",
    "licence",
    "licensed",
    "licenses",
    "agreement",
    "version",
    "v",
    "public",
    "software",
    "of",
    "terms",
    "use",
}
_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]+")


def normalize(name: str) -> str:
    """A comparison form: "Apache License, Version 2.0" and "apache-2.0" both give "apache 2 0"."""
    words = _WORD.findall(name.lower().replace("licence", "license"))
    kept = [w for w in words if w not in _DROP]
    text = " ".join(kept)
    return re.sub(r"\bv(\d)", r"\1", text)


def _put_unique(index: dict[str, str | None], norm: str, key: str) -> None:
    """Map ``norm`` to ``key``; a form two licenses share maps to None (ambiguous)."""
    index[norm] = None if norm in index and index[norm] != key else key


def build_name_index(cat: Catalog) -> dict[str, str | None]:
    """normalized name -> key, or None where two licenses share the name (``make signatures``)."""
    index: dict[str, str | None] = {}

    def add(name: str, key: str) -> None:
        norm = normalize(name)
        if norm and norm not in GENERIC:
            _put_unique(index, norm, key)

    for key in cat:
        info = cat.get(key)
        if info.raw.get("deprecated") or info.raw.get("generic") or info.raw.get("unknown"):
            continue
        add(info.name, key)
        add(str(info.raw.get("short_name") or ""), key)
        if not info.spdx_id.startswith("LicenseRef-"):
            add(info.spdx_id, key)
    for alias, key in ALIASES.items():
        index[normalize(alias)] = key  # our facts win over accidental collisions
    return dict(sorted(index.items()))


def key_for_name(name: str) -> str | None:
    """The one key ``name`` stands for, or None (unknown, generic or ambiguous)."""
    cat = catalog()
    direct = cat.by_spdx(name.strip())
    if direct:
        return direct
    norm = normalize(name)
    if not norm or norm in GENERIC:
        return None
    return cat.name_index.get(norm)


# Family names: a license named without its version or variant. Unknown on their own,
# but they agree with a member ("the Apache License" beside an Apache-2.0 text).
# Values are key prefixes (and SPDX id prefixes, compared case-blind).
FAMILIES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\bapache\b"), ("apache-",)),
    (re.compile(r"\bbsd\b"), ("bsd-", "0bsd")),
    (re.compile(r"\b(?:lgpl|lesser\s+general\s+public|library\s+general\s+public)\b"), ("lgpl-",)),
    (re.compile(r"\b(?:agpl|affero)\b"), ("agpl-",)),
    (re.compile(r"\b(?:gpl|gnu\s+general\s+public)\b"), ("gpl-",)),
    (re.compile(r"\b(?:mpl|mozilla\s+public)\b"), ("mpl-",)),
    (re.compile(r"\bcreative\s+commons\b|\bcc[- ]by\b"), ("cc-",)),
    (re.compile(r"\bllama\b"), ("llama",)),
    (re.compile(r"\bopen\s*rail\b|\bopenrail\b"), ("openrail", "bigscience-open", "bigcode-open")),
    (re.compile(r"\bgemma\b"), ("gemma-",)),
    (re.compile(r"\bqwen\b|tongyi"), ("qwen", "tongyi")),
)

# Words of names that say "some license of ours" without saying which.
_VAGUE_WORDS = frozenset(
    """model models weights weight code community open source opensource the this our its
    repository repo project agreement license licence licenses licences terms use usage
    custom specific bespoke an a of for same as official protocol 模型 许可 协议 许可证 许可协议
    开源 社区 本 项目 仓库 使用 的""".split()
)


def family_of(name: str) -> tuple[str, ...]:
    """Key prefixes of the family a name stands for ("the Apache License": apache-),
    or () when it names none or a specific license."""
    if not name or key_for_name(name):
        return ()
    lower = name.lower()
    for pattern, prefixes in FAMILIES:
        if pattern.search(lower):
            return prefixes
    return ()


def in_family(key: str, family: tuple[str, ...]) -> bool:
    """Does ``key`` belong to a family named by its prefixes?"""
    if not family:
        return False
    cat = catalog()
    spdx = cat.get(key).spdx_id.lower() if key in cat else ""
    return any(key.startswith(p.lower()) or spdx.startswith(p.lower()) for p in family)


_VAGUE_CJK = re.compile(r"模型|许可证|许可|协议|开源|社区|本|项目|仓库|使用|的")


def is_vague(name: str) -> bool:
    """A name made only of generic words: "the Model License", "an open license", "开源协议"."""
    lower = name.lower()
    latin = re.findall(r"[a-z]+", lower)
    cjk = "".join(re.findall(r"[\u3400-\u9fff]+", lower))
    if not latin and not cjk:
        return False
    return all(w in _VAGUE_WORDS for w in latin) and not _VAGUE_CJK.sub("", cjk)


# A URL names a license only when it points at a license document, not at a project's home.
_LICENSE_PATH = re.compile(
    r"licen[cs]|legal|terms|copying|rail|agreement|policy|/mit\b|/bsd|/gpl|/apache|/cc-|"
    r"creativecommons\.org|opensource\.org|spdx\.org",
    re.IGNORECASE,
)


def _norm_url(url: str) -> str:
    url = url.strip().lower()
    url = re.sub(r"^https?://", "", url)
    url = re.sub(r"^www\.", "", url)
    url = re.sub(r"[#?].*$", "", url)
    return url.rstrip("/")


def build_url_index(cat: Catalog) -> dict[str, str | None]:
    """normalized URL -> key, or None where two licenses share it (``make signatures``)."""
    index: dict[str, str | None] = {}
    for key in cat:
        raw = cat.get(key).raw
        if raw.get("deprecated"):
            continue
        for url in raw.get("urls", []):
            _put_unique(index, _norm_url(url), key)
    return dict(sorted(index.items()))


def key_for_url(url: str) -> str | None:
    """The one key whose catalog URLs include ``url``, or None.

    Only URLs of license documents count: a catalog entry's URL list often holds the
    project's home page too (github.com/facebookresearch/llama), and a link to a model's
    repository is no statement of its license."""
    if not _LICENSE_PATH.search(url):
        return None
    return catalog().url_index.get(_norm_url(url))


def _hub_name_forms(name: str) -> list[str]:
    """``license_name`` as written, and without the words cards add ("deepseek-license")."""
    base = re.sub(r"[\s_]+", "-", name.strip().lower())
    short = re.sub(r"-(?:model-)?(?:license|licence)(?:-agreement)?$|-agreement$", "", base)
    return list(dict.fromkeys([name.strip().lower(), base, short]))


def hub_candidates(license_id: str, names: list[str]) -> list[str]:
    """Candidate keys of a card's ``license`` field (with its ``license_name`` values).

    Hub ids first; for ``other``, the ``license_name`` in the forms cards write it
    ("deepseek-license", "tongyi-qianwen-research"); then, for a field holding a license's
    name rather than an id ("Apache License 2.0"), the name. More than one candidate means
    the field names several licenses (two dated texts of one terms of use)."""
    cat = catalog()
    lid = license_id.strip().lower()
    if lid in AMBIGUOUS_HUB_IDS:
        return []
    if lid == "other":
        keys = sorted(
            {k for n in names for form in _hub_name_forms(n) for k in cat.by_hub_name(form)}
        )
        if not keys:
            keys = sorted({k for n in names if (k := key_for_name(n))})
        return keys
    keys = cat.by_hub_id(lid)
    if not keys:
        key = key_for_name(license_id)
        keys = [key] if key else []
    return keys
