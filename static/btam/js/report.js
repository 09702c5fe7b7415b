/* Public report pages: small enhancements only. Every page works without this file. */
(function () {
  "use strict";

  // Move focus to an error summary or a warning, so screen readers announce it first.
  var focusTarget = document.querySelector("[data-focus-on-load]");
  if (focusTarget) {
    focusTarget.focus();
  }

  // Copy the receipt code.
  document.querySelectorAll("[data-copy-from]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy-from"));
    var status = document.getElementById("copy-status");
    if (!source || !navigator.clipboard) {
      return; // stays hidden: the code can still be written down or downloaded
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(
        function () { if (status) { status.textContent = button.getAttribute("data-copy-done"); } },
        function () { if (status) { status.textContent = button.getAttribute("data-copy-failed"); } }
      );
    });
  });

  // Narrow the list of schools while typing (the search button does the same without JavaScript).
  document.querySelectorAll("[data-school-filter]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-school-filter"));
    if (!list) {
      return;
    }
    var noMatch = list.querySelector("[data-no-match]");
    var fold = function (text) {
      return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
    };
    input.addEventListener("input", function () {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      list.querySelectorAll("[data-school-name]").forEach(function (item) {
        var name = fold(item.getAttribute("data-school-name"));
        var match = words.every(function (w) { return name.indexOf(w) !== -1; });
        item.hidden = !match;
        if (match) { shown += 1; }
      });
      list.querySelectorAll(".btam-district").forEach(function (section) {
        section.hidden = section.querySelectorAll("[data-school-name]:not([hidden])").length === 0;
      });
      if (noMatch) {
        noMatch.hidden = shown !== 0;
      }
    });
  });

  // Say at once when too many or too big files are chosen (the server checks again).
  document.querySelectorAll("input[type=file][data-max-files]").forEach(function (input) {
    var form = input.form;
    var warning = form ? form.querySelector(".btam-files-warning") : null;
    var maxFiles = parseInt(input.getAttribute("data-max-files"), 10);
    var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10);
    input.addEventListener("change", function () {
      var problems = [];
      var files = Array.prototype.slice.call(input.files || []);
      if (files.length > maxFiles && warning) {
        problems.push(warning.getAttribute("data-too-many"));
      }
      var big = files.filter(function (f) { return f.size > maxBytes; }).map(function (f) { return f.name; });
      if (big.length && warning) {
        problems.push(warning.getAttribute("data-too-big") + " " + big.join(", "));
      }
      input.setCustomValidity(problems.join(" "));
      if (warning) {
        warning.textContent = problems.join(" ");
      }
    });
  });
})();
