// Progressive enhancement only: "Expand all" / "Collapse all" for the criteria checklists.
document.addEventListener("DOMContentLoaded", () => {
  const toolbar = document.querySelector(".toolbar");
  if (!toolbar) return;
  toolbar.hidden = false;
  toolbar.addEventListener("click", (event) => {
    const mode = event.target.dataset.expand;
    if (!mode) return;
    document.querySelectorAll("details.checklist-box").forEach((d) => { d.open = mode === "open"; });
  });
});
