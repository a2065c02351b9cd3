"""What the local news web publishes: the seed stories (clean bodies derived from
``seeds/``) and generated off-topic articles."""

from __future__ import annotations

import random
from dataclasses import dataclass

from seeds import SEEDS_DIR


@dataclass(frozen=True)
class _SeedSpec:
    """How to read one seed file (1-based line numbers), per seeds/README.md."""

    prefix: str
    title_line: int
    body_lines: tuple[int, int]  # first, last (inclusive); blank lines skipped
    drop: tuple[int, ...] = ()
    strip_prefix: str = ""
    headings: tuple[int, ...] = ()
    teaser_line: int | None = None  # a feed teaser, minus its "Read Full Article at …" tail
    popular_lines: tuple[int, int] | None = None  # "Popular posts" widget: title, snippet pairs


_SEED_SPECS = {
    "000": _SeedSpec("000_", 1, (3, 13), drop=(9,), teaser_line=2),
    "001": _SeedSpec("001_", 1, (3, 31), headings=(11,)),
    "002": _SeedSpec("002_", 3, (5, 27), strip_prefix="Ns News Online Desk:Ns News Online Desk: "),
    "003": _SeedSpec("003_", 3, (5, 61), headings=(25, 37), popular_lines=(71, 81)),
    "004": _SeedSpec("004_", 1, (3, 13)),
}
_TEASER_TAIL = " Read Full Article at RT.com"


@dataclass(frozen=True)
class SeedStory:
    seed_id: str
    title: str
    paragraphs: tuple[str, ...]
    headings: frozenset[int]  # indexes into paragraphs that are subheadings
    teaser: str | None
    popular_posts: tuple[tuple[str, str], ...]


def _seed_lines(seed_id: str) -> list[str]:
    spec = _SEED_SPECS[seed_id]
    (path,) = [p for p in SEEDS_DIR.glob("*.txt") if p.name.startswith(spec.prefix)]
    return path.read_text(encoding="utf-8").split("\n")


def seed_story(seed_id: str) -> SeedStory:
    spec = _SEED_SPECS[seed_id]
    lines = _seed_lines(seed_id)
    paragraphs: list[str] = []
    headings: set[int] = set()
    for number in range(spec.body_lines[0], spec.body_lines[1] + 1):
        line = lines[number - 1].strip()
        if not line or number in spec.drop:
            continue
        if spec.strip_prefix and line.startswith(spec.strip_prefix):
            line = line[len(spec.strip_prefix) :]
        if number in spec.headings:
            headings.add(len(paragraphs))
        paragraphs.append(line)
    teaser = None
    if spec.teaser_line:
        teaser = lines[spec.teaser_line - 1].strip().removesuffix(_TEASER_TAIL.strip()).strip()
    popular: list[tuple[str, str]] = []
    if spec.popular_lines:
        block = [l.strip() for l in lines[spec.popular_lines[0] - 1 : spec.popular_lines[1]] if l.strip()]
        popular = list(zip(block[::2], block[1::2], strict=True))
    return SeedStory(
        seed_id=seed_id,
        title=lines[spec.title_line - 1].strip(),
        paragraphs=tuple(paragraphs),
        headings=frozenset(headings),
        teaser=teaser,
        popular_posts=tuple(popular),
    )


def seed_teaser_line(seed_id: str) -> str:
    """The seed's feed-teaser line exactly as the seed shows it (with its tail)."""
    spec = _SEED_SPECS[seed_id]
    assert spec.teaser_line
    return _seed_lines(seed_id)[spec.teaser_line - 1].strip()


def seed_clean_body(seed_id: str) -> str:
    """The seed's article body without any boilerplate, one paragraph a line."""
    return "\n".join(seed_story(seed_id).paragraphs)


# -- off-topic articles ----------------------------------------------------------------

_TOPICS: dict[str, dict[str, list[str]]] = {
    "sports": {
        "subject": ["the home side", "the league leaders", "the veteran striker", "the young goalkeeper",
                    "the coaching staff", "the visiting team", "the club captain", "the defending champions"],
        "verb": ["secured", "celebrated", "missed", "fought for", "claimed", "defended", "chased", "surrendered"],
        "object": ["a late winner", "the title race lead", "a narrow victory", "their place in the final",
                   "a record attendance", "the penalty shootout", "a hard-earned draw", "the opening goal"],
        "detail": ["after a rain delay", "in front of a sold-out stadium", "despite two injuries",
                   "with ten minutes remaining", "on a heavy pitch", "after extra time"],
    },
    "weather": {
        "subject": ["forecasters", "the regional weather service", "farmers in the valley", "residents near the coast",
                    "the city council", "emergency crews", "ski resort operators", "local schools"],
        "verb": ["warned of", "prepared for", "reported", "recorded", "braced for", "cleared up after"],
        "object": ["heavy rainfall", "a late frost", "strong coastal winds", "the warmest night of the year",
                   "flooded roads", "a week of fog", "record snowfall", "a prolonged dry spell"],
        "detail": ["across the northern districts", "through the weekend", "for the third day running",
                   "along the river plain", "in the hill towns", "before the harvest"],
    },
    "business": {
        "subject": ["the bakery chain", "shareholders", "the regional airline", "a local software startup",
                    "the furniture maker", "retail analysts", "the brewery", "small business owners"],
        "verb": ["announced", "reported", "postponed", "welcomed", "questioned", "launched"],
        "object": ["quarterly results", "a new distribution centre", "higher rents", "a loyalty programme",
                   "plans for twelve new stores", "a recall of kitchen appliances", "a hiring freeze", "online ordering"],
        "detail": ["ahead of the holiday season", "after months of negotiations", "in the city centre",
                   "despite rising costs", "at the annual meeting", "in a statement on Tuesday"],
    },
    "science": {
        "subject": ["researchers", "the university laboratory", "marine biologists", "a team of astronomers",
                    "botanists", "volunteer bird watchers", "the museum curators", "geologists"],
        "verb": ["discovered", "measured", "described", "catalogued", "photographed", "tracked"],
        "object": ["a new species of beetle", "unusual rock formations", "the migration of swallows",
                   "a faint distant comet", "coral growth on the reef", "fossilised footprints",
                   "pollen in lake sediments", "the nesting habits of owls"],
        "detail": ["during a summer field survey", "using a new microscope", "over two decades",
                   "in a paper published this week", "near the old quarry", "with help from students"],
    },
    "culture": {
        "subject": ["the city orchestra", "a first-time novelist", "the community theatre", "the film festival",
                    "local painters", "the jazz quartet", "the public library", "a celebrated chef"],
        "verb": ["premiered", "unveiled", "sold out", "reopened", "toured with", "opened"],
        "object": ["a new symphony", "an exhibition of landscapes", "a comedy about a family wedding",
                   "a cookbook of regional recipes", "a restored cinema", "a season of silent films",
                   "a reading room for children", "a mural on the old market hall"],
        "detail": ["to warm reviews", "after a long renovation", "on Saturday evening",
                   "with free entry for students", "in the harbour district", "for one week only"],
    },
}
_QUOTES = [
    "It has been a remarkable few weeks for everyone involved",
    "We did not expect this many people to turn up",
    "There is still a lot of work ahead of us",
    "This is what the whole community has been waiting for",
    "Nobody here can remember anything quite like it",
]
_NAMES = ["Maria Lopez", "Tom Becker", "Aisha Rahman", "Lukas Novak", "Priya Nair", "Sam O'Connor",
          "Elena Petrova", "David Okafor", "Hannah Schmidt", "Kenji Watanabe", "Laura Rossi", "Omar Haddad"]


def _sentence(rng: random.Random, words: dict[str, list[str]]) -> str:
    form = rng.randrange(4)
    s, v, o, d = (rng.choice(words[k]) for k in ("subject", "verb", "object", "detail"))
    if form == 0:
        text = f"{s} {v} {o} {d}"
    elif form == 1:
        text = f"{d.capitalize()}, {s} {v} {o}"
    elif form == 2:
        text = f"{s} {v} {o}, and {rng.choice(words['subject'])} {rng.choice(words['verb'])} {rng.choice(words['object'])}"
    else:
        return f"“{rng.choice(_QUOTES)},” said {rng.choice(_NAMES)}, who has followed the story {d}."
    return text[0].upper() + text[1:] + "."


@dataclass(frozen=True)
class GeneratedArticle:
    topic: str
    title: str
    paragraphs: tuple[str, ...]
    author: str


def offtopic_article(number: int, seed: int = 0) -> GeneratedArticle:
    """Off-topic article ``number``: deterministic for a given (number, seed)."""
    rng = random.Random(f"newsweb-offtopic-{seed}-{number}")
    topic = rng.choice(sorted(_TOPICS))
    words = _TOPICS[topic]
    paragraphs = []
    for _ in range(rng.randint(4, 12)):
        para = " ".join(_sentence(rng, words) for _ in range(rng.randint(3, 5)))
        paragraphs.append(para)
    title_words = f"{rng.choice(words['subject'])} {rng.choice(words['verb'])} {rng.choice(words['object'])}"
    title = title_words[0].upper() + title_words[1:] + f" {rng.choice(words['detail'])}"
    return GeneratedArticle(topic, title, tuple(paragraphs), rng.choice(_NAMES))
