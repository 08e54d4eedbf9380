// The Room page keeps itself current: every few seconds it fetches the board alone
// (/room/board) and swaps it in, so the table never flickers as a reload would. When the room's
// explorer stops, the last board stays, marked as not current.
"use strict";
(function () {
  const board = document.getElementById("board");
  const seconds = Number(board.dataset.refreshSeconds) || 3;
  async function refresh() {
    try {
      const response = await fetch("/room/board", { cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      board.innerHTML = await response.text();
      board.classList.remove("stale");
    } catch (_) {
      board.classList.add("stale");
    }
  }
  setInterval(refresh, seconds * 1000);
})();
