// The query page's script: two things a mouse does on the heatmap, each also reachable without
// it (the table's links, the form's selection boxes).
//
// 1. Hovering a row of the results lights that group's spans up in the heatmap: the server drew
//    each group's own cells, hidden (`<g class="group-cells" data-group="N">`); the row with
//    `data-group="N"` shows them and fades the rest.
// 2. Dragging over the heatmap selects a region: the cells under the rectangle, as a time range
//    (`select_from`, `select_to`, Unix milliseconds) and a duration range (`select_min`,
//    `select_max`, left out at the heatmap's top and bottom). The page is asked again with them; it then lists the slowest traces in the
//    region and compares its spans with the rest. The edges come from the heatmap's
//    `data-column-edges` and `data-row-edges`, written by the server exactly as the link wants
//    them. A click without a drag still opens the cell's traces.
"use strict";
(function () {
  const heatmap = document.getElementById("heatmap");
  if (!heatmap) return;
  const WIDTH = 800;
  const HEIGHT = 300;

  // 1. Hover a group.
  for (const row of document.querySelectorAll("#results tr[data-group]")) {
    const cells = heatmap.querySelector(`.group-cells[data-group="${row.dataset.group}"]`);
    if (!cells) continue;
    row.addEventListener("mouseenter", () => {
      heatmap.classList.add("lit");
      cells.classList.add("on");
      row.classList.add("lit");
    });
    row.addEventListener("mouseleave", () => {
      heatmap.classList.remove("lit");
      cells.classList.remove("on");
      row.classList.remove("lit");
    });
  }

  // 2. Drag to select.
  const columns = (heatmap.dataset.columnEdges || "").split(",");
  const rows = (heatmap.dataset.rowEdges || "").split(",");
  if (columns.length < 2 || rows.length < 2) return;
  const box = document.getElementById("selecting");
  const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
  // Where the mouse is, in the heatmap's own units (0..800 across, 0..300 down).
  function point(event) {
    const screen = heatmap.createSVGPoint();
    screen.x = event.clientX;
    screen.y = event.clientY;
    const at = screen.matrixTransform(heatmap.getScreenCTM().inverse());
    return { x: clamp(at.x, 0, WIDTH - 0.01), y: clamp(at.y, 0, HEIGHT - 0.01) };
  }
  let start = null;
  let dragged = false;
  heatmap.addEventListener("mousedown", (event) => {
    if (event.button !== 0) return;
    start = point(event);
    dragged = false;
    event.preventDefault();
  });
  window.addEventListener("mousemove", (event) => {
    if (!start) return;
    const now = point(event);
    dragged = dragged || Math.abs(now.x - start.x) + Math.abs(now.y - start.y) > 4;
    if (!dragged) return;
    box.setAttribute("x", Math.min(start.x, now.x));
    box.setAttribute("y", Math.min(start.y, now.y));
    box.setAttribute("width", Math.abs(now.x - start.x));
    box.setAttribute("height", Math.abs(now.y - start.y));
    box.style.display = "inline";
  });
  window.addEventListener("mouseup", (event) => {
    if (!start) return;
    const from = start;
    start = null;
    if (dragged) select(from, point(event));
  });
  // The click that ends a drag must not follow the cell's link as well.
  heatmap.addEventListener(
    "click",
    (event) => {
      if (dragged) {
        event.preventDefault();
        dragged = false;
      }
    },
    true,
  );

  // The cells under the rectangle from `a` to `b`, as the query's selection.
  function select(a, b) {
    const across = columns.length - 1;
    const up = rows.length - 1;
    const first = Math.floor((Math.min(a.x, b.x) / WIDTH) * across);
    const last = Math.floor((Math.max(a.x, b.x) / WIDTH) * across);
    // Rows are drawn slowest on top; `rows` lists the edges shortest first.
    const slowest = up - 1 - Math.floor((Math.min(a.y, b.y) / HEIGHT) * up);
    const fastest = up - 1 - Math.floor((Math.max(a.y, b.y) / HEIGHT) * up);
    const params = new URLSearchParams(window.location.search);
    params.set("select_from", columns[first]);
    params.set("select_to", columns[last + 1]);
    // The edges are rounded for reading; the outer ones are left out, so that the fastest and
    // the slowest spans stay in a selection that reaches them.
    if (fastest > 0) params.set("select_min", rows[fastest]);
    else params.delete("select_min");
    if (slowest < up - 1) params.set("select_max", rows[slowest + 1]);
    else params.delete("select_max");
    window.location.assign(`/query?${params}`);
  }
})();
