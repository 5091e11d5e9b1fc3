// Review page: j / k go to the next / previous item of the disagreement queue.
(function () {
  "use strict";
  const nav = document.getElementById("review-nav");
  document.addEventListener("keydown", function (event) {
    if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
    const url = event.key === "j" ? nav.dataset.next : event.key === "k" ? nav.dataset.prev : "";
    if (url) window.location.href = url;
  });
})();
