"""The anger rules as flow data: the words, phrases and thresholds that make a DM read as angry or threatening.

An admin edits them in the flow document under ``escalation.anger``; ``bot.understanding.anger`` reads a
DM with them. Every list is per language (``en``, ``zh``), and every list of both languages is looked for
in every DM, so a mixed message ("垃圾 service, wtf") is read with both. Phrases are matched whole: an
English phrase never matches inside a longer word ("sue" is not in "issue"); Chinese has no spaces, so a
Chinese phrase matches anywhere and should be long enough to mean one thing ("破快递", not "破").

The defaults here are empty on purpose: the shipped lists live in ``flows/default.yaml``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

__all__ = ["AllCapsRule", "AngerPhrases", "AngerRules", "AngerWeights", "LearnedRule", "Phrase"]

_MAX_PHRASE_CHARS = 80


def _phrase(value: str) -> str:
    if not value.strip():
        raise ValueError("a phrase cannot be empty or only spaces")
    if len(value) > _MAX_PHRASE_CHARS:
        raise ValueError(f"a phrase is at most {_MAX_PHRASE_CHARS} characters, got {len(value)}")
    if not value.isprintable():
        raise ValueError(f"phrase {value!r} contains a line break or a control character")
    return value


Phrase = Annotated[str, AfterValidator(_phrase)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AngerPhrases(_Strict):
    """The phrases of one language, by what they say about the customer's mood."""

    # Signals: each list found in a DM (and not cancelled, see below) adds its weight once.
    insults: list[Phrase] = []  # at the shop or its people: "scammers", "useless", "骗子"
    profanity: list[Phrase] = []  # swearing, masked forms included: "f***", "sh*t", "tmd"
    angry_slang: list[Phrase] = []  # "wtf", "ffs", "垃圾", "坑爹", "破快递"
    sarcasm: list[Phrase] = []  # "thanks for nothing", "love that for me", "呵呵", "好棒棒"
    quoted_praise: list[Phrase] = []  # praise that is sarcasm between quotes: 'fast' shipping, “极速”
    # Praise and irony that are sarcasm only in a DM that also complains (a parcel problem, a complaint
    # cue, a follow-up or another signal): "great job, 3 weeks late" but not "great job, it came early!";
    # "真是太" but not "真是太感谢了".
    sarcasm_in_complaints: list[Phrase] = []
    threats_public: list[Phrase] = []  # going public: "tweet about this", "1-star review", "曝光"
    threats_consumer_body: list[Phrase] = []  # "BBB", "FTC", "Trading Standards", "12315", "消协"
    threats_chargeback: list[Phrase] = []  # "chargeback", "dispute with my bank", "PayPal claim", "拒付"
    threats_legal: list[Phrase] = []  # "lawyer", "sue you", "small claims", "律师", "起诉"
    repeated_complaint: list[Phrase] = []  # "third time", "still no answer", "问了三遍"
    # A threat in words no list can foresee: a place to take the complaint (a venue: "my bank",
    # "Instagram", "消费者保护机构") and a move that takes it there ("report", "will be hearing", "投诉"), on
    # the side of the venue its list says, in one sentence, within ``AngerRules.venue_window`` words.
    # Alone, neither is a threat: "paid with my bank card", "saw you on Instagram", "投诉电话".
    venues_public: list[Phrase] = []  # "instagram", "reddit", "my followers", "微博", "网上"
    venues_consumer_body: list[Phrase] = []  # "consumer", "regulator", "消费者", "有关部门"
    venues_chargeback: list[Phrase] = []  # "my bank", "credit card", "paypal", "信用卡", "银行"
    venues_legal: list[Phrase] = []  # "court", "legal", "法律", "法院"
    threat_moves: list[Phrase] = []  # before its venue: "report (you to the regulator)", "file a claim with"
    threat_moves_after: list[Phrase] = []  # after its venue: "(my bank) will be hearing about this", "投诉"
    # Moves that also say plainer things ("call", "post", "联系"): a threat only in a DM that complains.
    threat_moves_in_complaints: list[Phrase] = []  # before its venue: "calling (PayPal)", "发到"
    threat_moves_after_in_complaints: list[Phrase] = []  # after its venue: "(微博)我已经发了"
    # What a customer writes to chase an answer ("any update?", "在吗"): with earlier complaints in the
    # conversation, such a message is one more complaint (see ``AngerRules.repeated_after``).
    follow_ups: list[Phrase] = []
    # What makes a DM a complaint though it names no parcel problem: "another delay", "weeks", "查不到",
    # "unless", "不然". They make praise in the DM sarcasm (``sarcasm_in_complaints``), and keep a polite
    # threat to go public ("..., or I post it on Weibo. Thanks") from reading as praise.
    complaint_cues: list[Phrase] = []
    # Joy, thanks, praise and politeness: in a DM with no upset signal and no parcel problem they make it
    # excited, grateful or urgent-but-polite, not angry, so its capitals, "!!!" and swearing do not count
    # ("OMG it's here!!!", "卧槽这么快!!!"), nor, unless it complains, does telling followers about the shop
    # ("I'll tell all my followers 😍").
    positive: list[Phrase] = []
    # Cues that cancel a hit (words between quotes are someone else's and never count either). A
    # negation cancels a hit that follows it closely in the same clause ("not going to sue", "不会去投诉",
    # "有点无语"); a quoting cue likewise, within a wider window ("my friend says I should call a lawyer",
    # "我妹让我直接拒付"); an enquiry cancels the threats of its clause, before or after it, unless the DM
    # is upset or names a parcel problem ("12315是什么", "what is a chargeback?", "how do I open a dispute?").
    negations: list[Phrase] = []
    # Reluctance cancels like a negation ("I'd rather not involve my bank"), except when a contrast follows
    # in its sentence: that is a polite threat ("I'd rather not go public, but you leave me no choice",
    # "不想闹大，但是再不退款只能找消协").
    reluctance: list[Phrase] = []
    contrasts: list[Phrase] = []  # "but", "however", "但是", "可是"
    quoting: list[Phrase] = []
    enquiries: list[Phrase] = []
    # Read whole so that their parts do not count: "won't hesitate" is not the negation "won't",
    # "post office" is not a threat to post.
    harmless: list[Phrase] = []

    @field_validator("*")
    @classmethod
    def _listed_once(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for phrase in value:
            key = " ".join(phrase.lower().split())
            if key in seen:
                raise ValueError(f"{phrase!r} is listed twice")
            seen.add(key)
        return value


class AngerWeights(_Strict):
    """How much each signal adds to a DM's score; the DM is angry at ``AngerRules.threshold`` or above."""

    insult: float = Field(1.0, ge=0, le=10)
    profanity: float = Field(1.0, ge=0, le=10)
    angry_slang: float = Field(1.0, ge=0, le=10)
    sarcasm: float = Field(1.0, ge=0, le=10)
    all_caps: float = Field(1.0, ge=0, le=10)
    exclamations: float = Field(1.0, ge=0, le=10)
    repeated_complaint: float = Field(1.0, ge=0, le=10)
    # A threat makes the DM angry whatever its weight; the weight only matters to the score.
    threat_public: float = Field(1.0, ge=0, le=10)
    threat_consumer_body: float = Field(1.0, ge=0, le=10)
    threat_chargeback: float = Field(1.0, ge=0, le=10)
    threat_legal: float = Field(1.0, ge=0, le=10)


class AllCapsRule(_Strict):
    """Shouting: enough all-caps words and letters in them, and enough of the letters, in the DM or in one
    sentence of it ("WHERE IS MY ORDER", not "ORDER #1002 STATUS?").

    Words glued to digits ("A1001") and single letters ("I") are not counted either way.
    """

    min_letters: int = Field(10, ge=2, le=1000)
    min_words: int = Field(3, ge=1, le=100)
    min_share: float = Field(0.7, gt=0, le=1)


class LearnedRule(_Strict):
    """The learned model's part (``bot.understanding.anger_model``): it adds to the rules, never takes away.

    A DM is angry when the model's probability reaches ``angry_at``, threatening at ``threat_at``, whatever
    the lists say; raise them for fewer hand-overs, lower them to miss less, or set one to null to leave
    that head out. Off by default here, on in the default flow: rules built from scratch read only what
    they list.
    """

    enabled: bool = False
    angry_at: float | None = Field(0.8, gt=0, le=1)
    threat_at: float | None = Field(0.5, gt=0, le=1)


class AngerRules(_Strict):
    """Everything ``read_anger`` goes by: the phrases of each language, the weights and the thresholds."""

    en: AngerPhrases = AngerPhrases()
    zh: AngerPhrases = AngerPhrases()
    weights: AngerWeights = AngerWeights()
    threshold: float = Field(1.0, gt=0, le=100)
    all_caps: AllCapsRule = AllCapsRule()
    # A run of at least this many "!" and "?" ("!!!", "?!?", "！！！") is the exclamations signal.
    exclamation_run: int = Field(3, ge=2, le=50)
    # With at least this many earlier complaints in the conversation, a DM that is itself a complaint
    # is the repeated_complaint signal.
    repeated_after: int = Field(2, ge=1, le=50)
    # How far a negation and a quoting cue reach: words (or Chinese characters) between it and the hit
    # it cancels, in the same clause.
    negation_window: int = Field(4, ge=0, le=20)
    quoting_window: int = Field(8, ge=0, le=40)
    # How far apart a venue and a move may be, in words (or Chinese characters), in one sentence.
    venue_window: int = Field(6, ge=0, le=40)
    learned: LearnedRule = LearnedRule()
