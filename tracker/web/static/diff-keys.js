// Diff pages: j / k move to the next / previous change. The "Next change" links do the
// same without JavaScript; this file only adds the keys (same-origin, as the CSP allows).
(function () {
  "use strict";
  var hint = document.querySelector(".keys-hint");
  if (hint) hint.hidden = false;

  function changes() {
    return Array.prototype.slice.call(document.querySelectorAll(".change-nav[id^='change-']"));
  }

  // The change shown last (by the address), else the one the reader has scrolled to.
  function target(list, step) {
    var current = list.findIndex(function (item) { return "#" + item.id === location.hash; });
    if (current !== -1) return list[current + step];
    if (step > 0) {
      return list.find(function (item) { return item.getBoundingClientRect().top > 1; });
    }
    var before = list.filter(function (item) { return item.getBoundingClientRect().top < -1; });
    return before[before.length - 1];
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    var typing = event.target.closest && event.target.closest("input, select, textarea, [contenteditable]");
    if (typing) return;
    var step = event.key === "j" ? 1 : event.key === "k" ? -1 : 0;
    if (!step) return;
    var next = target(changes(), step);
    if (!next) return;
    event.preventDefault();
    location.hash = next.id;  // scrolls to it, as following its link would
  });
})();
