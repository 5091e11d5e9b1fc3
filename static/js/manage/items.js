// Data browser: the header checkbox chooses every item of the page.
const all = document.getElementById("select-all");
if (all) {
  all.addEventListener("change", () => {
    for (const box of document.querySelectorAll('input[name="item"]')) box.checked = all.checked;
  });
}
