/* HTML page only: click a column heading to sort, type to filter. Nothing is fetched. */
(function () {
  "use strict";
  var decimalComma = document.documentElement.lang === "fr";
  function key(cell, numeric) {
    var t = cell.textContent.trim();
    if (numeric) {
      // English groups thousands with "," (12,345.6); French with a (narrow) no-break space and
      // writes a decimal comma (12 345,6).
      t = decimalComma ? t.replace(/[\s\u00a0\u202f]/g, "").replace(",", ".") : t.replace(/,/g, "");
      var n = parseFloat(t);
      return isNaN(n) ? -Infinity : n;
    }
    return t.toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var numeric = th.classList.contains("num");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (r) { return [key(r.cells[col], numeric), r]; });
        rows.sort(function (a, b) { return (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) * (asc ? 1 : -1); });
        rows.forEach(function (p) { body.appendChild(p[1]); });
      });
    });
  });
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    var counter = document.querySelector('[data-count="' + table.id + '"]');
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase(), shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        var hit = r.textContent.toLowerCase().indexOf(q) !== -1;
        r.hidden = !hit; if (hit) { shown++; }
      });
      counter.textContent = q ? shown + " / " + table.tBodies[0].rows.length : "";
    });
  });
})();
