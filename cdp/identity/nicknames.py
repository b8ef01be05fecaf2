"""Common English given-name variants, so "Bob" and "Robert" count as one name."""

from __future__ import annotations

_GROUPS = (
    "robert bob bobby rob robbie bert",
    "william bill billy will willy liam",
    "elizabeth liz lizzie beth betty eliza libby",
    "katherine catherine kate katie kathy cathy kat",
    "margaret maggie meg peggy marge",
    "richard rick ricky dick rich",
    "james jim jimmy jamie",
    "john jack johnny jon",
    "jonathan jon jonny",
    "michael mike mikey mick",
    "thomas tom tommy",
    "joseph joe joey",
    "charles charlie chuck chas",
    "christopher chris kit",
    "christine chris chrissy tina",
    "daniel dan danny",
    "david dave davey",
    "edward ed eddie ted ned",
    "anthony tony",
    "andrew andy drew",
    "matthew matt",
    "nicholas nick nicky",
    "alexander alex al sandy",
    "alexandra alex sandra sasha",
    "samuel sam sammy",
    "samantha sam sammy",
    "benjamin ben benny",
    "patricia pat patty trish",
    "jennifer jen jenny",
    "susan sue susie",
    "deborah deb debbie",
    "rebecca becky becca",
    "victoria vicky tori",
    "stephen steve stevie",
    "steven steve stevie",
    "timothy tim timmy",
    "gregory greg",
    "jacob jake",
    "joshua josh",
    "peter pete",
    "frederick fred freddie",
    "lawrence larry",
    "kenneth ken kenny",
    "ronald ron ronnie",
    "donald don donnie",
    "gerald gerry jerry",
    "theodore ted teddy theo",
    "abigail abby",
    "josephine jo josie",
    "dorothy dot dottie",
)

_VARIANTS: dict[str, frozenset[str]] = {}
_FORMAL: dict[str, frozenset[str]] = {}  # a variant -> the full name(s) of its group(s)
for _group in _GROUPS:
    _formal, *_ = _names_in_order = _group.split()
    _names = frozenset(_names_in_order)
    for _name in _names:
        _VARIANTS[_name] = _VARIANTS.get(_name, frozenset()) | _names
        _FORMAL[_name] = _FORMAL.get(_name, frozenset()) | {_formal}


def same_given_name(a: str, b: str) -> bool:
    """True when both are variants of one given name (folded, lower-case input)."""
    first_a, first_b = a.split()[0], b.split()[0]
    return first_a == first_b or first_b in _VARIANTS.get(first_a, frozenset())


def name_forms(name: str) -> frozenset[str]:
    """The name's first word and the full names it is short for ("bob" -> bob, robert)."""
    first = name.split()[0]
    return _FORMAL.get(first, frozenset()) | {first}
