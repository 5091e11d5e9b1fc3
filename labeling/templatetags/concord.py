from django import template

from labeling.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    return render_markdown(text)


@register.filter
def percent(value) -> str:
    """A rate as a percentage; a negative one with a real minus sign (−3%)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "–"
    if number != number:
        return "–"
    text = f"{abs(number) * 100:.0f}"
    return f"\u2212{text}%" if number < 0 and text != "0" else f"{text}%"


MINUS = "\u2212"  # a real minus sign: "−0.014", not a hyphen


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN: no number


@register.filter
def signed(value, digits: int = 3) -> str:
    """+0.012, −0.014, 0.000 (a gain or a difference: the sign always shown)."""
    number = _number(value)
    if number is None:
        return "–"
    text = f"{abs(number):.{int(digits)}f}"
    if float(text) == 0:
        return text
    return f"+{text}" if number > 0 else f"{MINUS}{text}"


@register.filter
def signed_percent(value) -> str:
    """A difference of two rates in percentage points: +12, −3 (the unit is said beside it)."""
    number = _number(value)
    if number is None:
        return "–"
    text = f"{abs(number) * 100:.0f}"
    if text == "0":
        return "0"
    return f"+{text}" if number > 0 else f"{MINUS}{text}"
