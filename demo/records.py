"""User-record pairs for the "same person?" project: nicknames, typos, moved cities, namesakes."""

import random

FIRST = [
    ("Robert", "Bob"),
    ("William", "Bill"),
    ("Elizabeth", "Liz"),
    ("Katherine", "Kate"),
    ("Jonathan", "Jon"),
    ("Margaret", "Peggy"),
    ("Alejandro", "Alex"),
    ("Priya", "Priya"),
    ("Mohammed", "Mo"),
    ("Yuki", "Yuki"),
    ("Olga", "Olya"),
    ("Thomas", "Tom"),
]
LAST = ["Smith", "Garcia", "Nguyen", "Okafor", "Kowalski", "Tanaka", "Patel", "Dubois", "Rossi", "Ivanova"]
CITIES = ["Austin", "Lyon", "Osaka", "Lagos", "Kraków", "Pune", "Turin", "Denver"]
DOMAINS = ["example.com", "mail.example", "post.example"]


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _person(rng: random.Random) -> dict:
    first, nick = rng.choice(FIRST)
    last = rng.choice(LAST)
    year = rng.randint(1950, 2004)
    return {
        "first": first,
        "nick": nick,
        "last": last,
        "birth_date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "city": rng.choice(CITIES),
        "phone": f"+1-555-{rng.randint(1000, 9999)}",
    }


def _record(p: dict, *, name: str, email_user: str, domain: str, city=None, phone=True) -> dict:
    return {
        "name": name,
        "email": f"{email_user}@{domain}",
        "phone": p["phone"] if phone else "",
        "birth_date": p["birth_date"],
        "city": city or p["city"],
    }


def person_record_pairs(n: int = 40, *, seed: int = 0) -> list[dict]:
    """Pairs {external_id, left, right, truth (1 same person / 0 not), kind, metadata}."""
    rng = random.Random(seed)
    kinds = ["exact", "nickname", "typo", "swapped", "moved", "namesake", "different", "sparse"]
    pairs = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        p = _person(rng)
        user = f"{p['first'][0].lower()}{p['last'].lower()}"
        left = _record(p, name=f"{p['first']} {p['last']}", email_user=user, domain=rng.choice(DOMAINS))
        truth = 1
        if kind == "exact":
            right = dict(left)
        elif kind == "nickname":
            right = _record(p, name=f"{p['nick']} {p['last']}", email_user=user, domain=rng.choice(DOMAINS))
        elif kind == "typo":
            right = _record(
                p, name=f"{p['first']} {_typo(rng, p['last'])}", email_user=user, domain=rng.choice(DOMAINS)
            )
        elif kind == "swapped":
            right = _record(p, name=f"{p['last']}, {p['first']}", email_user=user, domain=rng.choice(DOMAINS))
        elif kind == "moved":  # ambiguous on purpose: same name and birthday, new city and phone
            right = _record(
                p,
                name=f"{p['first']} {p['last']}",
                email_user=f"{user}{rng.randint(1, 99)}",
                domain=rng.choice(DOMAINS),
                city=rng.choice(CITIES),
                phone=False,
            )
        elif kind == "namesake":  # same name, different person
            q = _person(rng)
            right = _record(
                {**q, "first": p["first"], "last": p["last"]},
                name=f"{p['first']} {p['last']}",
                email_user=f"{user}.{rng.randint(10, 99)}",
                domain=rng.choice(DOMAINS),
            )
            truth = 0
        elif kind == "different":
            q = _person(rng)
            right = _record(
                q,
                name=f"{q['first']} {q['last']}",
                email_user=f"{q['first'][0].lower()}{q['last'].lower()}",
                domain=rng.choice(DOMAINS),
            )
            truth = 0
        else:  # sparse: too little to decide — the "x lacks information" case
            right = {
                "name": f"{p['first'][0]}. {p['last']}",
                "email": "",
                "phone": "",
                "birth_date": "",
                "city": "",
            }
        pairs.append(
            {
                "external_id": f"pair-{i + 1:03d}",
                "left": left,
                "right": right,
                "truth": truth,
                "kind": kind,
                "metadata": {
                    "source": "crm" if i % 2 == 0 else "web",
                    "region": rng.choice(["EU", "NA", "APAC"]),
                },
            }
        )
    return pairs
