// The page's only logic: on Go, ask /fib for index 0, 1, 2, … one request after another, and
// show each number as it arrives. Stop aborts the request in flight (the server then drops the
// whole tree of sub-requests behind it).
"use strict";

const maxIndex = Number(document.body.dataset.maxIndex);
const goButton = document.getElementById("go");
const stopButton = document.getElementById("stop");
const list = document.getElementById("sequence");
const status = document.getElementById("status");

let running = null; // the AbortController of the current run, if any

goButton.addEventListener("click", go);
stopButton.addEventListener("click", () => running && running.abort());

async function go() {
  if (running) running.abort();
  const run = new AbortController();
  running = run;
  list.replaceChildren();
  setRunning(true, "running…");

  for (let index = 0; index <= maxIndex; index++) {
    const item = addItem(index);
    const started = performance.now();
    try {
      const response = await fetch(`/fib?index=${index}`, { signal: run.signal });
      const text = (await response.text()).trim();
      if (!response.ok) {
        return finish(run, item, "error", `✖ ${response.status}: ${text}`, "stopped by an error");
      }
      show(item, "done", text, `${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      if (run.signal.aborted) {
        return finish(run, item, "stopped", "■ stopped", "stopped");
      }
      return finish(run, item, "error", `✖ ${error.message}`, "stopped by an error");
    }
  }
  finish(run, null, null, null, `done: reached the cap (index ${maxIndex}, FIB_MAX_INDEX)`);
}

// One list item per index: a waiting mark until its answer arrives.
function addItem(index) {
  const item = document.createElement("li");
  item.title = `/fib?index=${index}`;
  show(item, "waiting", "…", "");
  list.append(item);
  return item;
}

function show(item, state, value, note) {
  item.className = state;
  const valueEl = document.createElement("span");
  valueEl.className = "value";
  valueEl.textContent = value;
  const noteEl = document.createElement("small");
  noteEl.textContent = note;
  item.replaceChildren(valueEl, noteEl);
}

function finish(run, item, state, value, message) {
  if (item) show(item, state, value, "");
  if (running === run) {
    running = null;
    setRunning(false, message);
  }
}

function setRunning(isRunning, message) {
  goButton.disabled = isRunning;
  stopButton.disabled = !isRunning;
  status.textContent = message;
}
