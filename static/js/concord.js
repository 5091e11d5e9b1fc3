// Site-wide keyboard help: "g p" jumps to the projects list; Esc hides a figure's explanation
// (shown on hover or focus) without moving the focus. Page scripts live in their own files.
(function () {
  "use strict";
  let last = "";
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      const term = event.target.closest && event.target.closest(".term");
      const hovered = document.querySelectorAll(".term:hover");
      for (const open of term ? [term] : hovered) open.classList.add("tip-dismissed");
    }
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]") || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (last === "g" && event.key === "p") {
      window.location.href = "/";
    }
    last = event.key;
  });
  document.addEventListener("focusout", function (event) {
    const term = event.target.closest && event.target.closest(".term");
    if (term) term.classList.remove("tip-dismissed");
  });
  document.addEventListener("mouseout", function (event) {
    const term = event.target.closest && event.target.closest(".term");
    if (term && !term.contains(event.relatedTarget)) term.classList.remove("tip-dismissed");
  });
})();
