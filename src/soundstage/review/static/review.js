// soundstage review: the wipe, frame scrubbing, seeking the cut, and live job progress (server-sent events).
"use strict";

function wipe() {
  const slider = document.getElementById("wipe-at");
  const over = document.getElementById("wipe-over");
  const line = document.getElementById("wipe-line");
  if (!slider || !over) return;
  const set = () => {
    const at = Number(slider.value);
    over.style.clipPath = `inset(0 ${100 - at}% 0 0)`;
    line.style.left = `${at}%`;
  };
  slider.addEventListener("input", set);
  const box = document.getElementById("wipe");
  box.addEventListener("pointermove", (event) => {
    if (event.buttons !== 1) return;
    const rect = box.getBoundingClientRect();
    slider.value = String(Math.round(100 * (event.clientX - rect.left) / rect.width));
    set();
  });
  set();
}

function flipbooks() {
  // Element takes are frame sequences: a scrubber shows any frame; all flipbooks on a page move together.
  const books = Array.from(document.querySelectorAll(".flip"));
  const together = document.getElementById("wipe-frame");
  if (together) {
    together.addEventListener("input", () => {
      for (const book of books) {
        const list = book.dataset.frames.split("|");
        book.querySelector("img").src = "/files/" + list[Math.min(Number(together.value), list.length - 1)];
      }
    });
  }
  for (const book of books) {
    const frames = book.dataset.frames.split("|");
    const image = book.querySelector("img");
    book.querySelector(".scrub").addEventListener("input", (event) => {
      for (const other of books) {
        const list = other.dataset.frames.split("|");
        const index = Math.min(Number(event.target.value), list.length - 1);
        other.querySelector("img").src = "/files/" + list[index];
        other.querySelector(".scrub").value = String(index);
      }
      image.src = "/files/" + frames[Number(event.target.value)];
    });
  }
}

function cutStrip() {
  const video = document.getElementById("cut");
  if (!video) return;
  for (const button of document.querySelectorAll(".strip-shot")) {
    button.addEventListener("click", () => {
      video.currentTime = Number(button.dataset.at) + 0.001;
      video.play().catch(() => {});
    });
  }
}

function followJob() {
  const panel = document.getElementById("job");
  if (!panel || ["done", "refused", "failed"].includes(panel.dataset.state)) return;
  const state = document.getElementById("job-state");
  const message = document.getElementById("job-message");
  const bar = document.getElementById("job-progress");
  const events = new EventSource(`/jobs/${panel.dataset.job}/events`);
  const log = [];      // what the job said, kept for this tab across the reload that shows the result
  events.addEventListener("progress", (event) => {
    const data = JSON.parse(event.data);
    log.push(data.message);
    sessionStorage.setItem(`job-${panel.dataset.job}`, JSON.stringify(log));
    panel.dataset.state = data.state;
    state.textContent = data.state;
    state.className = `job-state state-${data.state}`;
    message.textContent = data.message;
    if (data.total) { bar.max = data.total; bar.value = data.done || 0; }
  });
  events.addEventListener("end", (event) => {
    events.close();
    const data = JSON.parse(event.data);
    panel.dataset.state = data.state;
    state.textContent = data.state;
    state.className = `job-state state-${data.state}`;
    message.textContent = data.message;
    bar.max = 1; bar.value = 1;
    if (data.state === "done") {
      // Show the new take and the re-rendered comp: the same page without the job in its address.
      const link = document.createElement("a");
      link.href = window.location.pathname;
      link.textContent = " Show it";
      link.id = "job-show";
      message.appendChild(link);
      setTimeout(() => { window.location.assign(window.location.pathname + "?job=" + data.id); }, 600);
    }
  });
  events.onerror = () => { if (panel.dataset.state === "done") events.close(); };
}

document.addEventListener("DOMContentLoaded", () => { wipe(); flipbooks(); cutStrip(); followJob(); });
