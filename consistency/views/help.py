"""docs/agreement.md as a page: the long version of every figure's explanation, one anchored
section each, where the pages' hover explanations link."""

from functools import lru_cache

import markdown
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET


@lru_cache(maxsize=1)
def _agreement_html() -> SafeString:
    text = (settings.BASE_DIR / "docs" / "agreement.md").read_text(encoding="utf-8")
    # Our own file in the repository, not user input: rendered without the sanitizer.
    html = markdown.markdown(text, extensions=["tables", "attr_list", "toc", "sane_lists"])
    return mark_safe(html)  # noqa: S308 — trusted, versioned documentation


@require_GET
@login_required
def agreement_help(request):
    return render(request, "consistency/help.html", {"content": _agreement_html()})
