"""Template filters for reviewers' and managers' pages: answers and codes in people's words."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from consistency import explanations

register = template.Library()


@register.filter
def words(code) -> str:
    """lacks_information → lacks information; dawid_skene → Dawid–Skene."""
    text = str(code or "")
    return {"dawid_skene": "Dawid–Skene", "majority": "majority vote"}.get(text, text.replace("_", " "))


@register.filter
def answer_words(value) -> str:
    """An answer as a person reads it: a class, "a, b", "2 boxes: dent, scratch", a transcript."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            classes = ", ".join(str(v.get("class", "?")) for v in value)
            return f"{len(value)} box{'es' if len(value) != 1 else ''}: {classes}"
        return ", ".join(map(str, value)) if value else "no class"
    return str(value)


@register.filter
def status_words(status) -> str:
    """A review status as people say it: "lacks information", not ``lacks_information``."""
    return explanations.status_words(status)


@register.simple_tag(takes_context=True)
def term(context, key: str, label: str = ""):
    """A figure's name with its explanation on hover or focus and a link to its section of the
    docs. Each use gets its own tooltip id (a page may name a figure twice)."""
    found = explanations.TERMS[key]
    count = context.render_context.setdefault("term_count", [0])
    count[0] += 1
    tip = f"tip-{key.replace('_', '-')}-{count[0]}"
    return format_html(
        '<span class="term"><a href="{}#{}" aria-describedby="{}">{}</a>'
        '<span class="tip" role="tooltip" id="{}">{} <span class="tip-scale">{}</span></span></span>',
        reverse("agreement-help"),
        found.anchor,
        tip,
        label or found.name,
        tip,
        found.text,
        found.scale,
    )


@register.simple_tag
def scale(key: str) -> str:
    """The scale a figure is read on (the verdict line under it)."""
    return explanations.TERMS[key].scale
