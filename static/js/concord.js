// Site-wide keyboard help: "g p" jumps to the projects list. Page scripts live in their own files.
(function () {
  "use strict";
  let last = "";
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]") || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (last === "g" && event.key === "p") {
      window.location.href = "/";
    }
    last = event.key;
  });
})();
