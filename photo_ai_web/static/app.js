// photo_ai search page: more results as you scroll, search by image (drop, paste or pick),
// a photo's text boxes and copying its text, the status page's live counts.
// Text is only ever set with textContent; the only HTML read is the server's own
// autoescaped fragments (more results), parsed with DOMParser and adopted node by node.
"use strict";

(() => {
  // A thumbnail that cannot be made (a broken file) shows as an empty tile.
  document.addEventListener("error", (event) => {
    if (event.target instanceof HTMLImageElement) event.target.classList.add("broken");
  }, true);

  // ---------------------------------------------------------------- search by image
  const imageForm = document.getElementById("image-search");
  const imageInput = document.getElementById("image-file");
  const overlay = document.getElementById("drop-overlay");

  function searchWith(file) {
    if (!file || !file.type.startsWith("image/")) return false;
    const transfer = new DataTransfer();
    transfer.items.add(file);
    imageInput.files = transfer.files;
    imageForm.submit();
    return true;
  }

  document.getElementById("pick-image")?.addEventListener("click", () => imageInput.click());
  imageInput?.addEventListener("change", () => { if (imageInput.files.length) imageForm.submit(); });

  const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  let dragDepth = 0;
  window.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    dragDepth += 1;
    overlay.hidden = false;
  });
  window.addEventListener("dragleave", () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) overlay.hidden = true;
  });
  window.addEventListener("dragover", (event) => { if (carriesFiles(event)) event.preventDefault(); });
  window.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    overlay.hidden = true;
    searchWith(event.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (event) => {
    const file = Array.from(event.clipboardData?.files || []).find((f) => f.type.startsWith("image/"));
    if (file && searchWith(file)) event.preventDefault();
  });

  // ---------------------------------------------------------------- more results as you scroll
  const grid = document.getElementById("grid");
  const more = document.getElementById("more");
  if (grid && more && "IntersectionObserver" in window) {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) loadMore();
    }, { rootMargin: "800px 0px" });
    let loading = false;
    async function loadMore() {
      if (loading) return;
      loading = true;
      try {
        const response = await fetch(more.dataset.next, { headers: { Accept: "text/html" } });
        if (!response.ok) throw new Error(response.statusText);
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const shown = new Set(Array.from(grid.children, (card) => card.dataset.asset));
        for (const card of page.querySelectorAll(".grid > .card")) {
          if (!shown.has(card.dataset.asset)) grid.append(document.adoptNode(card));
        }
        const next = page.getElementById("more");
        if (next) {
          more.dataset.next = next.dataset.next;
          more.querySelector("a").href = next.dataset.next;
          // observed afresh: if the end of the grid is still in sight, the next page loads too
          observer.unobserve(more);
          observer.observe(more);
        } else {
          observer.disconnect();
          more.remove();
        }
      } catch (error) {
        observer.disconnect();  // the link in #more still works by hand
      } finally {
        loading = false;
      }
    }
    observer.observe(more);
  }

  // ---------------------------------------------------------------- one photo
  const stage = document.querySelector(".stage");
  if (stage) {
    const toggle = (id, hiddenClass) => document.getElementById(id)?.addEventListener("change",
      (event) => stage.classList.toggle(hiddenClass, !event.target.checked));
    toggle("toggle-text", "hide-text");
    toggle("toggle-faces", "hide-faces");
    const light = (index, on) => {
      document.querySelectorAll(`[data-line="${index}"]`).forEach((el) => el.classList.toggle("lit", on));
    };
    document.querySelectorAll("[data-line]").forEach((el) => {
      el.addEventListener("mouseenter", () => light(el.dataset.line, true));
      el.addEventListener("mouseleave", () => light(el.dataset.line, false));
    });
  }
  const copyButton = document.getElementById("copy-text");
  copyButton?.addEventListener("click", async () => {
    const lines = document.querySelector(".ocr-lines");
    const text = Array.from(lines.children, (li) => li.textContent).join("\n");
    try {
      await navigator.clipboard.writeText(text);
      copyButton.textContent = copyButton.dataset.done;
    } catch (error) {
      // no clipboard access: select the text, for Ctrl-C
      const range = document.createRange();
      range.selectNodeContents(lines);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  });

  // ---------------------------------------------------------------- status, live
  const progress = document.getElementById("progress");
  if (progress) {
    const failedAtLoad = Number(progress.dataset.failed);
    // every 3 s while photos are being analysed, every 15 s while nothing is queued
    const next = () => setTimeout(refresh, progress.dataset.busy === "true" ? 3000 : 15000);
    async function refresh() {
      let status;
      try {
        const response = await fetch("/status.json", { headers: { Accept: "application/json" } });
        if (!response.ok) return next();
        status = await response.json();
      } catch (error) {
        return next();
      }
      for (const task of status.tasks) {
        const box = progress.querySelector(`.task[data-task="${task.task}"]`);
        if (!box) continue;
        for (const [state, count] of Object.entries(task.counts)) {
          const number = box.querySelector(`.n[data-state="${state}"]`);
          if (number) number.textContent = String(count);
        }
        const bar = box.querySelector("progress");
        bar.max = task.total || 1;
        bar.value = task.counts.done;
      }
      progress.dataset.busy = String(status.busy);
      document.getElementById("new-failures").hidden = status.failed === failedAtLoad;
      next();
    }
    next();
  }
})();
