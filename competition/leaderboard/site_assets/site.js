// TinyMLPerf leaderboard: sortable tables and filters. Plain JS, no dependencies, loaded as a separate file (CSP).
"use strict";

(function () {
  function cellValue(row, index) {
    var cell = row.children[index];
    return cell ? (cell.getAttribute("data-sort") || cell.textContent.trim()) : "";
  }

  function compare(a, b) {
    if (a === "" || b === "") { return a === b ? 0 : (a === "" ? 1 : -1); }
    var x = Number(a), y = Number(b);
    if (!isNaN(x) && !isNaN(y)) { return x - y; }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortTable(table, index, header) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = cellValue(r1, index), b = cellValue(r2, index);
      if (a === "" || b === "") { return compare(a, b); }  // unmeasured values stay last
      return ascending ? compare(a, b) : compare(b, a);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function makeSortable(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      header.tabIndex = 0;
      header.classList.add("sort-header");
      header.addEventListener("click", function () { sortTable(table, index, header); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortTable(table, index, header); }
      });
    });
  }

  function applyFilters() {
    var active = {};
    document.querySelectorAll("select.filter").forEach(function (select) {
      if (select.value) { active[select.getAttribute("data-filter")] = select.value; }
    });
    var shownBoards = 0;
    document.querySelectorAll(".filterable").forEach(function (element) {
      var visible = Object.keys(active).every(function (key) {
        var value = element.getAttribute("data-" + key);
        return value === null || value === active[key];
      });
      element.hidden = !visible;
      if (visible && element.classList.contains("board")) { shownBoards += 1; }
    });
    var count = document.getElementById("match-count");
    if (count) { count.textContent = shownBoards + " ranking" + (shownBoards === 1 ? "" : "s") + " shown"; }
    var none = document.getElementById("no-match");
    if (none) { none.hidden = shownBoards !== 0; }
  }

  // Anchored jumps stop below the sticky filter bar: its height (0 where it is not sticky) as --sticky-offset.
  function measureStickyBar() {
    var bar = document.getElementById("filters");
    var sticky = bar && getComputedStyle(bar).position === "sticky";
    document.documentElement.style.setProperty("--sticky-offset", sticky ? bar.offsetHeight + "px" : "0px");
  }

  document.addEventListener("DOMContentLoaded", function () {
    measureStickyBar();
    window.addEventListener("resize", measureStickyBar);
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    document.querySelectorAll("select.filter").forEach(function (select) {
      select.addEventListener("change", applyFilters);
    });
    if (document.getElementById("filters")) { applyFilters(); }
  });
})();
