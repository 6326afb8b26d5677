"""The blank spaCy pipeline and helpers shared by the extractor modules.

No downloadable model is available, so the pipeline is `spacy.blank("en")`
(tokenizer only) plus one component that fixes token norms of chat spelling
("im" -> "i am"), so that cue phrases matched on NORM also match text typed
without apostrophes.
"""

# No `from __future__ import annotations` here: spaCy validates the factory
# signature with pydantic, which needs real annotations, not strings.
import bisect
import re
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

NORM_COMPONENT = "prescreen_norms"
# Same-length replacements only, so character offsets stay those of the
# original message.
_CHAR_MAP = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "\u00a0": " "})
_DET_SLOT = "{det}"


class NormFixer:
    """Overrides token norms for chat spelling (u -> you, "im" -> i + am)."""

    def __init__(self, token_norms: Mapping[str, str], attached_norms: Mapping[str, str]) -> None:
        self.token_norms = dict(token_norms)
        self.attached_norms = dict(attached_norms)

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            lower = token.lower_
            previous = doc[token.i - 1] if token.i > 0 else None
            # "im", "thats": spaCy splits them; the second piece is attached.
            if previous is not None and not previous.whitespace_ and previous.is_alpha and lower in self.attached_norms:
                token.norm_ = self.attached_norms[lower]
            elif lower in self.token_norms:
                token.norm_ = self.token_norms[lower]
        return doc


if not Language.has_factory(NORM_COMPONENT):

    @Language.factory(NORM_COMPONENT, default_config={"token_norms": {}, "attached_norms": {}})
    def _make_norm_fixer(
        nlp: Language, name: str, token_norms: Dict[str, str], attached_norms: Dict[str, str]
    ) -> NormFixer:
        return NormFixer(token_norms, attached_norms)


def build_nlp(context_patterns: Mapping[str, object]) -> Language:
    """A blank English pipeline with the norm fixer configured from context.yml."""
    nlp = spacy.blank("en")
    nlp.add_pipe(
        NORM_COMPONENT,
        config={
            "token_norms": dict(context_patterns.get("token_norms") or {}),  # type: ignore[call-overload]
            "attached_norms": dict(context_patterns.get("attached_norms") or {}),  # type: ignore[call-overload]
        },
    )
    return nlp


def clean_text(text: str) -> str:
    """Typographic quotes to ASCII, same length (offsets stay valid)."""
    return text.translate(_CHAR_MAP)


def expand_determiners(phrase: str, determiners: Sequence[str]) -> List[str]:
    """"small of {det} back" -> "small of my back", ..., "small of back"."""
    if _DET_SLOT not in phrase:
        return [phrase]
    variants = [phrase.replace(_DET_SLOT, det) for det in determiners]
    variants.append(re.sub(r"\s+", " ", phrase.replace(_DET_SLOT, "")).strip())
    return variants


def add_phrases(
    nlp: Language, matcher: PhraseMatcher, label: str, phrases: Iterable[str], determiners: Sequence[str] = ()
) -> None:
    """Add phrases under `label`; docs go through the whole pipeline so their norms match."""
    expanded: List[str] = []
    for phrase in phrases:
        expanded.extend(expand_determiners(str(phrase).lower(), determiners))
    docs = [doc for doc in nlp.pipe(expanded) if len(doc)]
    if docs:
        matcher.add(label, docs)


def longest_matches(doc: Doc, matcher: PhraseMatcher) -> List[Span]:
    """Non-overlapping matches, longest first (so blockers and long terms win)."""
    spans = [Span(doc, start, end, label=match_id) for match_id, start, end in matcher(doc)]
    return sorted(filter_spans(spans), key=lambda span: span.start)


def token_range(doc: Doc, start_char: int, end_char: int) -> Tuple[int, int]:
    """Token indices [start, end) covering a character span from a regex."""
    starts = [token.idx for token in doc]
    first = max(bisect.bisect_right(starts, start_char) - 1, 0)
    last = max(bisect.bisect_left(starts, end_char), first + 1)
    return first, min(last, len(doc))
