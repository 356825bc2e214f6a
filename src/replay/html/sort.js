// Click a column header to sort its table (numbers by their data-v value,
// text alphabetically); click again to reverse. Then mark the page ready.
(function () {
  "use strict";
  function key(row, column, numeric) {
    var cell = row.cells[column];
    if (!cell) { return numeric ? 0 : ""; }
    if (numeric) {
      var v = parseFloat(cell.getAttribute("data-v"));
      return isNaN(v) ? 0 : v;
    }
    return cell.textContent.toLowerCase();
  }
  function sortBy(table, header, column) {
    var numeric = header.classList.contains("num");
    var current = header.getAttribute("aria-sort");
    var descending = current ? current === "ascending" : numeric;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
      return { row: row, index: index, key: key(row, column, numeric) };
    });
    rows.sort(function (a, b) {
      var order = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
      return (descending ? -order : order) || a.index - b.index;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    Array.prototype.forEach.call(header.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tBodies[0]) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
      header.tabIndex = 0;
      header.title = "sort";
      header.addEventListener("click", function () { sortBy(table, header, column); });
      header.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, header, column); }
      });
    });
  });
  document.documentElement.setAttribute("data-ready", "1");
})();
