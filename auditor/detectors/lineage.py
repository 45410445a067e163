"""Lineage: which model a repo was made from, and how (fine-tune, quantization, merge, adapter).

Three places say it besides the card's front matter and the weights' headers
(read by ``card-metadata`` and ``weights-metadata``):

* README prose: "a fine-tuned version of [Llama-3.1-8B](https://huggingface.co/meta-llama/...)",
  "GGUF quantizations of org/name", "a merge of X and Y", "LoRA adapter for X",
  "based on X", "基于X微调", "在X的基础上训练", "X的量化版本", "由X量化". Each gives a
  ``base_model`` fact followed by a ``base_model_relation`` fact with the same
  evidence (``finetune``, ``quantized``, ``merge``, ``adapter``, or "" when the
  prose only says "based on" / "derived from" / "distilled from").
* ``adapter_config.json`` (PEFT): ``base_model_name_or_path`` gives ``base_model``
  with relation ``adapter``; only adapters carry that file.
* ``config.json`` (transformers): ``_name_or_path`` gives ``base_model_candidate``
  only, never ``base_model``: a model's own config often names the model itself.
  ``auditor.derivation`` decides whether a candidate counts.

Prose is the repo's own words: the front matter, code blocks, HTML comments,
quotations and an "Original model card" section (which quantizers copy from
the model they quantized) are not read, and only the first 64 KiB is.

Wrong is worse than unknown: a name counts only when it looks like a model (a
Hub id, a huggingface.co link, or a name with a size such as 7B, a version
such as -v2, or a known family word such as Llama or Qwen), so "based on the
transformer architecture" or "based on our experiments" name nothing. Local
paths ("/data/ckpt", "./out", "outputs/checkpoint-500") are never Hub ids.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from auditor.detectors import DETECTORS, Detected, Detector, line_of
from auditor.markdown import read
from auditor.model import Evidence, Fact, FileEntry, FileKind, Method

PROSE_LIMIT = 64 * 1024  # characters of a README read for lineage statements
EXCERPT_LIMIT = 200
SENTENCE_LIMIT = 2000  # characters of one sentence read
CONTEXT = 300  # characters around a statement that may say it is not about this model

FINETUNE = "finetune"
QUANTIZED = "quantized"
MERGE = "merge"
ADAPTER = "adapter"
UNSTATED = ""

CONFIG_NAME = "config.json"
ADAPTER_CONFIG_NAME = "adapter_config.json"

# --- what a model name looks like ---------------------------------------------

_SEG = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}"
_HUB_ID = re.compile(rf"{_SEG}/{_SEG}")
_HF_URL = re.compile(
    r"(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/(?P<path>[^\s)\]>\"'#?]{1,300})",
    re.IGNORECASE,
)
# huggingface.co/<first segment> pages that are not an organization's model.
_NOT_MODEL_ROOTS = frozenset(
    """datasets spaces docs blog papers collections models organizations settings join login
    pricing learn tasks posts api chat enterprise new search""".split()
)
# First segments of relative local paths that look like org/name ("outputs/run1").
_LOCAL_DIRS = frozenset(
    """out output outputs checkpoint checkpoints ckpt ckpts model models saved save saves tmp
    temp runs run data results exp exps experiment experiments workspace work home root mnt
    cache pretrained pretrained_models weights hf hf_models merged final train training logs
    src local""".split()
)
_CHECKPOINT_NAME = re.compile(
    r"^(?:checkpoint|ckpt|step|epoch|global_step|iter)[-_]?\d+$|^(?:final|last|best|latest)$",
    re.IGNORECASE,
)
_FILE_EXT = re.compile(
    r"\.(?:json|jsonl|ya?ml|py|txt|md|bin|pt|pth|safetensors|gguf|csv|tsv|parquet|zip|tar|gz)$",
    re.IGNORECASE,
)
# Family words, matched inside a name ("TinyLlama", "Qwen2.5", "deepseek-coder").
_FAMILY_LONG = (
    r"llama|qwen|mistral|mixtral|gemma|falcon|deepseek|baichuan|chatglm|whisper|"
    r"stable[-_]?diffusion|sdxl|vicuna|starcoder|codegen|internlm|minicpm|stablelm|pythia|"
    r"roberta|deberta|electra|llava|zephyr|nemotron|olmo|wizardlm|openchat"
)
# Short family words: only as a word of their own within the name ("Yi-34B", "flan-t5-xl").
_FAMILY_SHORT = (
    r"yi|phi|gpt|glm|m?t5|clip|flux|bloomz?|e5|bge|gte|mpt|"
    r"(?:distil|camem|flau|sci|bio|tiny|mobile|m)?bert"
)
_FAMILY = re.compile(
    rf"(?:{_FAMILY_LONG})|(?<![a-z0-9])(?:{_FAMILY_SHORT})(?![a-z])", re.IGNORECASE
)
_SIZE = re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?(?:x\d+(?:\.\d+)?)?[BbMm](?![A-Za-z])")
_VERSION = re.compile(r"(?:^|[-_.])[vV]\d")
_LICENSEY = re.compile(
    r"licen[cs]e|apache|^mit$|gpl|^bsd|cc-by|^cc0|openrail|creativeml|^mpl|^epl|^eupl|"
    r"unlicense|wtfpl|artistic",
    re.IGNORECASE,
)

# A Hub id read from a huggingface.co link is marked with this character in the
# cleaned prose, so the link counts as a model even when its text does not.
_HF = "\ue000"
_NAME = re.compile(
    rf"{_HF}(?P<hub>{_SEG}/{_SEG})|(?P<bare>[A-Za-z][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?)"
)
_NAME_AT_END = re.compile(
    rf"(?:{_HF}(?P<hub>{_SEG}/{_SEG})|(?P<bare>[A-Za-z][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?))"
    r"\s*(?:模型)?\s*$"
)
# "Llama 2 7B": a family word followed by its version and size words.
_FAMILY_TAIL = re.compile(r"\s+(?:\d+(?:\.\d+)?[BbMm]?|v\d+(?:\.\d+)*)(?!\w|\.\d)")


def hub_id_from_url(url: str) -> str | None:
    """``org/name`` of a huggingface.co model URL (``/tree/main``, ``.git`` dropped); else None."""
    m = _HF_URL.fullmatch(url.strip().rstrip("/"))
    if not m:
        return None
    parts = [p for p in m["path"].split("/") if p]
    if len(parts) < 2 or parts[0].lower() in _NOT_MODEL_ROOTS:
        return None
    org, name = parts[0], parts[1]
    name = name.removesuffix(".git")
    if not (re.fullmatch(_SEG, org) and re.fullmatch(_SEG, name)):
        return None
    return f"{org}/{name}"


def hub_id(value: str) -> str | None:
    """``org/name`` when the value names a Hub repo (or its URL); None for paths, single words."""
    text = value.strip()
    from_url = hub_id_from_url(text)
    if from_url:
        return from_url
    if not _HUB_ID.fullmatch(text) or ".." in text:
        return None
    org, name = text.split("/")
    if org.lower() in _LOCAL_DIRS or _CHECKPOINT_NAME.search(name) or _FILE_EXT.search(name):
        return None
    return text


def _has_model_marker(name: str) -> bool:
    return bool(_SIZE.search(name) or _VERSION.search(name))


def looks_like_model(name: str, *, weak: bool = False) -> bool:
    """Whether a name read in prose names a model rather than a thing ("transformer", "Apache-2.0").

    A Hub id needs something model-like in it (a digit, a dash, a family word),
    so "input/output" is no model. A bare name needs a size (7B), a version
    (-v2) or a family word; after a weak statement ("based on") a family word
    alone ("based on BERT", which often means the architecture) is not enough.
    """
    if len(name) < 3 or _LICENSEY.search(name) or _FILE_EXT.search(name):
        return False
    letters = sum(c.isalpha() for c in name)
    if letters < 2:
        return False
    if "/" in name:
        if hub_id(name) is None:
            return False
        org, repo = name.split("/")
        if "." in org:
            return False  # a web address ("github.com/org"), not a Hub organization
        return bool(re.search(r"[\d_.-]", repo) or _FAMILY.search(repo) or _FAMILY.search(org))
    if _has_model_marker(name):
        return True
    if _FAMILY.search(name):
        return not weak or bool(re.search(r"\d", name))
    return False


# --- reading the prose -----------------------------------------------------------

_MD_IMAGE = re.compile(r"!\[[^\]]{0,300}\]\([^)]{0,500}\)")
_MD_LINK = re.compile(r"\[(?P<text>[^\]]{0,300})\]\((?P<target>[^)\s]{0,500})(?:\s+\"[^\"]*\")?\)")
_HTML_LINK = re.compile(
    r"<a\s[^>]{0,300}?href=[\"'](?P<target>[^\"']{0,500})[\"'][^>]{0,300}>(?P<text>.{0,500}?)</a>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^<>]{0,300}>")
_BARE_HF_URL = re.compile(
    r"(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/[^\s)\]>\"'#?]{1,300}", re.IGNORECASE
)
_LIST_ITEM = re.compile(r"^\s{0,8}(?:[-*+]|\d{1,3}[.)])\s+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_SPACES = re.compile(r"[^\S\n]{2,}")
_MD_REF_LINK = re.compile(r"\[(?P<text>[^\]]{1,300})\]\[(?P<ref>[^\]]{0,100})\]")
_REF_DEF = re.compile(r"^\s{0,3}\[(?P<ref>[^\]]{1,100})\]:\s*(?P<url>\S+)")
_TABLE_ROW = re.compile(r"^\s*\|")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=\S)|(?<=[。！？；])")

_LEAD = re.compile(
    r"\s*:?\s*(?:(?:the|a|an|our|this|their|its)\s+)?"
    r"(?:[A-Z][A-Za-z0-9-]*['’]s\s+)?"  # "Meta's Llama 2 7B"
    r"(?:(?:original|base|pre-?trained|foundation|official|open[- ]source)\s+)*"
    r"(?:model\s+)?",
    re.IGNORECASE,
)
_MORE = re.compile(r"\s*,\s*(?:and\s+|&\s*)?|\s+and\s+|\s*&\s*|\s+\+\s+|\s+with\s+", re.IGNORECASE)
# What may follow the name after a weak statement ("based on X"): the end, or model words.
_WEAK_FOLLOW = re.compile(
    r"(?:$|[.,;:!?)\]\-—–(（，。；：！？、]|(?:model|models|weights|checkpoint|checkpoints|base|and|"
    r"with|using|via|through|which|that|as)\b|模型|权重|开发|构建|打造|研发|而来|进行|"
    r"的(?:模型|基础|权重))",
    re.IGNORECASE,
)
# What may not follow the name after any statement: it then names a thing of the model.
_BAD_FOLLOW = re.compile(
    r"(?:['’]s\b|architectures?\b|arch\b|papers?\b|tokeni[sz]er|vocab|templates?\b|data\b|"
    r"datasets?\b|corpus|corpora|tokens?\b|samples\b|examples\b|outputs\b|responses\b|"
    r"generations\b|judg|evaluat|benchmark|licen[cs]e|terms\b|agreement|community\s+licen|"
    r"style\b|recipe|code\b|codebase|repo\b|repository|implementation|framework|approach|"
    r"method|design|structure|family\s+of\s+architectures|架构|结构|框架|论文|方法|数据|协议|"
    r"许可|分词|词表|评测|代码)",
    re.IGNORECASE,
)
# A statement about something other than the model ("The tokenizer is based on ...").
_OTHER_SUBJECT = re.compile(
    r"\b(?:tokeni[sz]ers?|vocabular(?:y|ies)|chat\s+templates?|templates?|prompts?|code|"
    r"codebase|scripts?|implementation|evaluations?|benchmarks?|datasets?|data|corpus|"
    r"licen[cs]es?|architecture|paper|website|demo|space|app|leaderboard)\b|分词器|词表|代码|"
    r"数据|评测|架构|许可",
    re.IGNORECASE,
)
_MODEL_SUBJECT = re.compile(
    r"\b(?:models?|weights|checkpoints?|repo(?:sitory)?|adapters?|lora|gguf|quants?|"
    r"this\s+is|it\s+is|it's)\b|模型|权重|本仓库|适配器",
    re.IGNORECASE,
)
# Statements that say the model is not, or is compared with, or will be, such a derivative.
_NOT_OURS = re.compile(
    r"\b(?:not|never|unlike|instead\s+of|rather\s+than|compar(?:e|ed|ing|ison)|versus|vs\.?|"
    r"outperforms?|than|baselines?|will|plan(?:s|ned)?|soon|looking\s+for|check\s+out|"
    r"also\s+(?:release|provide|offer|publish|upload|share)[sd]?)\b|n['’]t\b|不是|并非|对比|相比|"
    r"将会|即将|未|没有",
    re.IGNORECASE,
)
# "For a GGUF version of X, see ...", "If you want a quantized version of X": a pointer elsewhere.
_POINTER = re.compile(r"\s*(?:for|if|to\s+use|to\s+run|try)\b", re.IGNORECASE)
# "... of X will be released soon": not (yet) this repo.
_LATER = re.compile(r"\b(?:soon|coming|upcoming|will\s+be|to\s+be\s+released)\b|即将|敬请期待")
# Subjects that quantizers' cards speak of ("imatrix quantizations of X" is still a statement).
_QUANT_INPUT = re.compile(r"\b(?:imatrix|importance\s+matrix|calibration)\b", re.IGNORECASE)
_SUBJECT_END = re.compile(r"\b(?:is|are|was|were|has\s+been|have\s+been)\b|是", re.IGNORECASE)
_ADAPTER_WORDS = re.compile(r"\b(?:Q?LoRA|PEFT)?\s*adapters?\b|适配器", re.IGNORECASE)


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    relation: str
    weak: bool = False  # only "based on"-like: the name must look more clearly like a model
    several: bool = False  # "merge of X and Y": more than one name may follow


_QUANT_FORMATS = (
    r"(?:GGUF|GGML|GPTQ|AWQ|EXL2|MLX|HQQ|AQLM|bnb|bitsandbytes|FP8|INT[48]|[2-8][- ]?bit)"
)
_PATTERNS: tuple[_Pattern, ...] = (
    _Pattern(
        re.compile(
            r"\bfine[- ]?tun(?:ed|ing)\s+(?:version\s+of|variant\s+of|from|of|based\s+on|"
            r"on\s+top\s+of|upon|starting\s+from)",
            re.IGNORECASE,
        ),
        FINETUNE,
    ),
    _Pattern(re.compile(r"\bfine[- ]?tunes?\s+of", re.IGNORECASE), FINETUNE),
    _Pattern(
        re.compile(
            r"\b(?:instruction|instruct|chat|sft|dpo|rlhf)[- ]?tuned\s+(?:version|variant)\s+of",
            re.IGNORECASE,
        ),
        FINETUNE,
    ),
    _Pattern(
        re.compile(
            r"\b(?:(?:further|continued|continually)\s+(?:pre-?)?)?trained\s+on\s+top\s+of|"
            r"\b(?:further|continued|continually)\s+(?:pre-?)?trained\s+from",
            re.IGNORECASE,
        ),
        FINETUNE,
    ),
    _Pattern(
        re.compile(
            r"\bquanti[sz](?:ed|ations?)\s+(?:version\s+of|variant\s+of|of|from|for)",
            re.IGNORECASE,
        ),
        QUANTIZED,
    ),
    _Pattern(re.compile(r"\bquants\s+(?:of|for)", re.IGNORECASE), QUANTIZED),
    _Pattern(
        re.compile(
            rf"\b{_QUANT_FORMATS}\s+(?:quanti[sz]ations?|quants?|conversions?|versions?|"
            r"format\s+model\s+files|model\s+files|files|weights)\s+(?:of|for)",
            re.IGNORECASE,
        ),
        QUANTIZED,
    ),
    _Pattern(
        re.compile(
            rf"\bconverted\s+(?:in)?to\s+(?:the\s+)?{_QUANT_FORMATS}\s+(?:format\s+)?from",
            re.IGNORECASE,
        ),
        QUANTIZED,
    ),
    _Pattern(
        re.compile(r"\bmerge\s+(?:of|between)|\bmerged\s+from|\bby\s+merging", re.IGNORECASE),
        MERGE,
        several=True,
    ),
    _Pattern(
        re.compile(
            r"\b(?:Q?LoRA|PEFT|DoRA)\s+(?:adapters?|weights|modules?)\s+(?:for|of|on\s+top\s+of|"
            r"trained\s+(?:on\s+top\s+of|on|from|for))|"
            r"\badapters?\s+(?:for|of|trained\s+(?:on\s+top\s+of|on|from|for))",
            re.IGNORECASE,
        ),
        ADAPTER,
    ),
    _Pattern(re.compile(r"\bdistilled\s+version\s+of", re.IGNORECASE), UNSTATED),
    _Pattern(
        re.compile(
            r"\bbased\s+(?:up)?on|\bderived\s+from|\bdistill(?:ed|ation)\s+(?:from|of)|"
            r"\bbuilt\s+(?:up)?on(?:\s+top\s+of)?",
            re.IGNORECASE,
        ),
        UNSTATED,
        weak=True,
    ),
    # "Original model: X", "Base model: X", "| Base model | X |"
    _Pattern(
        re.compile(
            r"^\s*(?:original|base|parent|source)\s+models?\s*(?:\(s\))?\s*[:|]|"
            r"^\s*\|\s*(?:original|base|parent|source)\s+models?\s*\|",
            re.IGNORECASE,
        ),
        UNSTATED,
    ),
)
# mergekit cards: "merged using the SLERP merge method using X as a base."
_AS_BASE = re.compile(
    rf"\busing\s+(?:the\s+)?(?:model\s+)?(?:{_HF}(?P<hub>{_SEG}/{_SEG})|"
    r"(?P<bare>[A-Za-z][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?))"
    r"\s+as\s+(?:a|the)\s+base\b",
    re.IGNORECASE,
)
# mergekit cards: "The following models were included in the merge:" then a list.
_MERGE_LIST_HEAD = re.compile(
    r"\b(?:following|these|below)\s+models?\s+(?:were|was|are|is)\s+"
    r"(?:included|used|merged|combined)\b.*\bmerg|\bmodels?\s+merged\s*:|合并的模型|融合的模型",
    re.IGNORECASE,
)

_ZH_VERB = (
    r"(?P<verb>微调|精调|预训练|训练|量化|合并|融合|蒸馏)"  # 训练 after 预训练: longest first
)
_ZH_GAP = (
    r"\s*(?:模型)?\s*(?:进行|做|通过|使用|经过|并|再|来)?\s*(?:了)?"
    r"(?:\s*(?:全参数|全量|指令|监督|增量|继续|二次|进一步|LoRA|QLoRA|SFT|DPO|RLHF|GGUF|GPTQ|AWQ|"
    r"INT4|INT8|\d+-?bit|\d+位))*\s*"
)
_ZH_BASED = re.compile(r"基于")
_ZH_ON_BASIS = re.compile(r"在")
_ZH_FROM = re.compile(r"由")
_ZH_VERB_AFTER = re.compile(_ZH_GAP + _ZH_VERB, re.IGNORECASE)
_ZH_BASIS_AFTER = re.compile(
    r"\s*(?:模型)?\s*的?\s*基础上(?P<tail>[^。；;!?！？]{0,30})", re.IGNORECASE
)
_ZH_SUFFIX = re.compile(
    r"的\s*(?:(?:GGUF|GPTQ|AWQ|MLX|INT4|INT8|\d+\s*-?\s*bit|\d+\s*位)\s*)?"
    r"(?:(?P<verb>量化|微调|精调)\s*(?:后的?)?\s*(?:版本|版|模型|权重)|"
    r"(?P<adapter>(?:LoRA|QLoRA|PEFT)?\s*适配器))",
    re.IGNORECASE,
)
_ZH_RELATIONS = {
    "微调": FINETUNE,
    "精调": FINETUNE,
    "训练": FINETUNE,
    "预训练": FINETUNE,
    "量化": QUANTIZED,
    "合并": MERGE,
    "融合": MERGE,
    "蒸馏": UNSTATED,
}


@dataclass(frozen=True)
class _Found:
    name: str
    relation: str
    offset: int  # of the name in the paragraph's cleaned text


def _clean_line(line: str, refs: dict[str, str]) -> str:
    """A line with Markdown and HTML dropped; Hub links become marked Hub ids."""

    def link(m: re.Match[str]) -> str:
        found = hub_id_from_url(m["target"])
        return _HF + found if found else _TAG.sub(" ", m["text"])

    def ref_link(m: re.Match[str]) -> str:
        found = hub_id_from_url(refs.get((m["ref"] or m["text"]).strip().lower(), ""))
        return _HF + found if found else m["text"]

    line = _MD_IMAGE.sub(" ", line)
    line = _MD_LINK.sub(link, line)
    line = _MD_REF_LINK.sub(ref_link, line)
    line = _HTML_LINK.sub(link, line)
    line = _TAG.sub(" ", line)

    def bare(m: re.Match[str]) -> str:
        found = hub_id_from_url(m.group(0))
        return _HF + found if found else m.group(0)

    line = _BARE_HF_URL.sub(bare, line)
    line = _HEADING.sub("", line)
    line = _LIST_ITEM.sub("", line)
    line = line.replace("**", "").replace("`", "").replace("*", "")
    return _SPACES.sub(" ", line)  # no long runs of spaces for the patterns to backtrack on


def _prose_lines(text: str) -> tuple[list[str], list[str]]:
    """(raw lines, cleaned lines) of the statements the repo makes itself.

    Emptied: the front matter, code blocks, HTML comments, quotations ("> ...")
    and the section under an "Original model card" heading, which quantizers
    copy from the model they quantized: its statements are about that model.
    Which lines those are, the shared Markdown reading says (auditor.markdown).
    """
    own = read(text).own_lines()
    raw = text[:PROSE_LIMIT].split("\n")
    refs = {m["ref"].strip().lower(): m["url"] for line in raw if (m := _REF_DEF.match(line))}
    clean = [
        _clean_line(line, refs) if i in own and not _REF_DEF.match(line) else ""
        for i, line in enumerate(raw, 1)
    ]
    return raw, clean


def _paragraphs(raw: list[str], clean: list[str]) -> list[tuple[int, str]]:
    """(0-based first line, text) of each paragraph; headings, list items, table rows start one."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for i, line in enumerate(clean):
        if not line.strip():
            if buf:
                out.append((start, "\n".join(buf)))
                buf = []
            continue
        breaks = _HEADING.match(raw[i]) or _LIST_ITEM.match(raw[i]) or _TABLE_ROW.match(raw[i])
        if buf and breaks:
            out.append((start, "\n".join(buf)))
            buf = []
        if not buf:
            start = i
        buf.append(line)
        if _HEADING.match(raw[i]):
            out.append((start, "\n".join(buf)))
            buf = []
    if buf:
        out.append((start, "\n".join(buf)))
    return out


def _sentences(text: str) -> list[tuple[int, str]]:
    """(offset, text) of each sentence of a paragraph."""
    out = []
    pos = 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        end = m.start() if m else len(text)
        if text[pos:end].strip():  # a "sentence" longer than prose ever is: a table, a blob
            out.append((pos, text[pos : min(end, pos + SENTENCE_LIMIT)]))
        pos = m.end() if m else len(text)
    return out


def _name_at(s: str, pos: int) -> tuple[str, bool, int, int] | None:
    """(name, from a Hub link, start, end) of the name at ``pos``, after articles; None if none."""
    lead = _LEAD.match(s, pos)
    start = lead.end() if lead else pos
    m = _NAME.match(s, start)
    if not m:
        return None
    if m["hub"]:
        hub = m["hub"].rstrip("._-")  # a Hub name never ends so: the sentence's full stop
        return hub, True, m.start(), m.start() + 1 + len(hub)
    name = m["bare"].rstrip("._-")
    end = m.start() + len(name)
    if "/" not in name and not _has_model_marker(name) and _FAMILY.search(name):
        tail = end
        for _ in range(2):
            more = _FAMILY_TAIL.match(s, tail)
            if not more:
                break
            tail = more.end()
        name, end = " ".join(s[m.start() : tail].split()), tail
    return name, False, m.start(), end


def _ok(name: str, trusted: bool, follow: str, weak: bool) -> bool:
    if not trusted and follow.startswith("/"):
        return False  # part of a longer path or URL ("github.com/org/repo")
    follow = follow.lstrip()
    if _BAD_FOLLOW.match(follow):
        return False
    if weak and not _WEAK_FOLLOW.match(follow):
        return False
    return trusted or looks_like_model(name, weak=weak)


def _about_other(prefix: str) -> bool:
    """Whether the words before a statement make it about something else than this model.

    "The tokenizer is based on X", "uses a chat template based on X", "unlike
    models fine-tuned from X": the subject (the words before the first "is",
    "was"...) or the words just before the statement name something else.
    """
    if _POINTER.match(prefix):
        return True
    prefix = prefix[-CONTEXT:]
    if _NOT_OURS.search(prefix):
        return True
    if _OTHER_SUBJECT.search(" ".join(prefix.split()[-3:])):
        return True
    verb = _SUBJECT_END.search(prefix)
    subject = prefix[: verb.start()] if verb else prefix
    if verb and _QUANT_INPUT.search(subject):
        return True  # "The imatrix was derived from X": a quantizer's input, not the base
    last_other = max((m.end() for m in _OTHER_SUBJECT.finditer(subject)), default=-1)
    last_model = max((m.end() for m in _MODEL_SUBJECT.finditer(subject)), default=-1)
    return last_other > last_model


def _english(s: str) -> list[_Found]:
    found: list[_Found] = []
    for pattern in _PATTERNS:
        for m in pattern.regex.finditer(s):
            prefix = s[: m.start()]
            if _about_other(prefix):
                continue
            if _LATER.search(s, m.end(), m.end() + CONTEXT):
                continue
            relation = pattern.relation
            if relation == FINETUNE and _ADAPTER_WORDS.search(prefix):
                relation = ADAPTER
            pos = m.end()
            while True:
                got = _name_at(s, pos)
                if not got:
                    break
                name, trusted, start, end = got
                more = _MORE.match(s, end) if pattern.several else None
                follow = "" if more else s[end:]
                if not _ok(name, trusted, follow, pattern.weak):
                    break
                found.append(_Found(name, relation, start))
                if not more:
                    break
                pos = more.end()
    for m in _AS_BASE.finditer(s):
        if _about_other(s[: m.start()]):
            continue
        trusted = bool(m["hub"])
        name = (m["hub"] or m["bare"]).rstrip("._-")
        if trusted or looks_like_model(name):
            relation = MERGE if re.search(r"merg", s, re.IGNORECASE) else UNSTATED
            found.append(_Found(name, relation, m.start("hub") - 1 if trusted else m.start("bare")))
    return found


def _chinese(s: str) -> list[_Found]:
    found: list[_Found] = []
    for trigger, kind in ((_ZH_BASED, "based"), (_ZH_ON_BASIS, "basis"), (_ZH_FROM, "from")):
        for m in trigger.finditer(s):
            if _about_other(s[: m.start()]):
                continue
            got = _name_at(s, m.end())
            if not got:
                continue
            name, trusted, start, end = got
            rest = s[end : end + CONTEXT]
            relation: str | None = None
            weak = False
            if kind == "basis":
                basis = _ZH_BASIS_AFTER.match(rest)
                if not basis:
                    continue
                verb = re.search(_ZH_VERB, basis["tail"])
                relation = _ZH_RELATIONS[verb["verb"]] if verb else UNSTATED
                rest = ""
            else:
                verb_m = _ZH_VERB_AFTER.match(rest)
                if verb_m:
                    relation = _ZH_RELATIONS[verb_m["verb"]]
                    tail = rest[verb_m.end() : verb_m.end() + 12]
                    if relation == FINETUNE and _ADAPTER_WORDS.search(tail):
                        relation = ADAPTER
                    rest = ""
                elif kind == "based":
                    relation, weak = UNSTATED, True
            if relation is None or not _ok(name, trusted, rest, weak):
                continue
            found.append(_Found(name, relation, start))
    for m in _ZH_SUFFIX.finditer(s):
        before = _NAME_AT_END.search(s[max(0, m.start() - 200) : m.start()])
        if not before:
            continue
        offset = max(0, m.start() - 200) + before.start()
        if _about_other(s[:offset]):
            continue
        trusted = bool(before["hub"])
        name = (before["hub"] or before["bare"]).rstrip("._-")
        if not (trusted or looks_like_model(name)):
            continue
        relation = ADAPTER if m["adapter"] else _ZH_RELATIONS[m["verb"]]
        found.append(_Found(name, relation, offset))
    return found


def _merge_lists(raw: list[str], clean: list[str]) -> list[tuple[int, str]]:
    """(0-based line, name) of the items listed under "The following models were included..."."""
    out: list[tuple[int, str]] = []
    pending = False
    for i, line in enumerate(clean):
        if _MERGE_LIST_HEAD.search(line):
            pending = True
            continue
        if not pending or not line.strip():
            continue
        if not _LIST_ITEM.match(raw[i]):
            pending = False
            continue
        got = _name_at(line, 0)
        if got:
            name, trusted, _, end = got
            # Under that heading a Hub id is a model even without a size or family in its name.
            model = trusted or looks_like_model(name) or ("/" in name and hub_id(name) is not None)
            if model and not _BAD_FOLLOW.match(line[end:].lstrip()):
                out.append((i, name))
    return out


def _excerpt(raw: list[str], index: int) -> str:
    return " ".join(raw[index].split())[:EXCERPT_LIMIT]


def _pair(path: str, name: str, relation: str, line: int, excerpt: str) -> list[Fact]:
    ev = Evidence(path, line, line, Method.README_STATEMENT, excerpt)
    return [Fact("base_model", name, ev), Fact("base_model_relation", relation, ev)]


def read_prose(path: str, text: str) -> list[Fact]:
    """``base_model`` / ``base_model_relation`` fact pairs stated in a README's prose."""
    raw, clean = _prose_lines(text)
    facts: list[Fact] = []
    seen: set[tuple[int, str]] = set()

    def add(index: int, name: str, relation: str) -> None:
        key = (index, name.lower())
        if key not in seen:
            seen.add(key)
            facts.extend(_pair(path, name, relation, index + 1, _excerpt(raw, index)))

    for first, par in _paragraphs(raw, clean):
        for offset, sentence in _sentences(par):
            hits = _english(sentence) + _chinese(sentence)
            best: dict[int, _Found] = {}
            for hit in hits:  # one reading per name: the first pattern, the most specific
                best.setdefault(hit.offset, hit)
            for hit in sorted(best.values(), key=lambda h: h.offset):
                index = first + par.count("\n", 0, offset + hit.offset)
                add(index, hit.name, hit.relation)
    for index, name in _merge_lists(raw, clean):
        add(index, name, MERGE)
    return facts


# --- config files ----------------------------------------------------------------


def _key_line(text: str, key: str, value: str) -> tuple[int, str]:
    """Line and trimmed text of ``"key": "value"`` in a JSON file (line 1 if not found)."""
    lines = text.split("\n")
    pattern = re.compile(rf"\"{re.escape(key)}\"\s*:\s*{re.escape(json.dumps(value))}")
    m = pattern.search(text) or re.search(rf"\"{re.escape(key)}\"\s*:", text)
    if not m:
        return 1, f'"{key}": {json.dumps(value)}'
    line = line_of(text, m.start())
    return line, " ".join(lines[line - 1].split())[:EXCERPT_LIMIT]


def read_config(path: str, text: str, key: str) -> tuple[str, Evidence] | None:
    """The Hub id a JSON config names under a top-level ``key``, with where; None otherwise."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None  # a broken config says nothing about lineage; not a license problem
    if not isinstance(data, dict):
        return None
    value = data.get(key)
    if not isinstance(value, str):
        return None
    found = hub_id(value)
    if found is None:
        return None
    line, excerpt = _key_line(text, key, value)
    return found, Evidence(path, line, line, Method.PACKAGE_METADATA, excerpt)


@DETECTORS.register("lineage")
class LineageDetector(Detector):
    """Base models named in README prose, ``adapter_config.json`` and ``config.json``."""

    def applies_to(self, entry: FileEntry) -> bool:
        if entry.kind is FileKind.README:
            return True
        name = PurePosixPath(entry.path).name.lower()
        return entry.kind is FileKind.CONFIG and name in (CONFIG_NAME, ADAPTER_CONFIG_NAME)

    def detect(self, entry: FileEntry, text: str) -> Detected:
        if entry.kind is FileKind.README:
            return Detected(facts=tuple(read_prose(entry.path, text)))
        name = PurePosixPath(entry.path).name.lower()
        if name == ADAPTER_CONFIG_NAME:
            got = read_config(entry.path, text, "base_model_name_or_path")
            if got is None:
                return Detected()
            return Detected(
                facts=(
                    Fact("base_model", got[0], got[1]),
                    Fact("base_model_relation", ADAPTER, got[1]),
                )
            )
        got = read_config(entry.path, text, "_name_or_path")
        if got is None:
            return Detected()
        return Detected(facts=(Fact("base_model_candidate", got[0], got[1]),))
