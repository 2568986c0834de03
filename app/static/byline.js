// Small enhancements for the public pages; every page works without them.
(function () {
  "use strict";

  // After a form comes back with errors, start at the summary of what to correct.
  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  // Copy buttons copy the value of the field they name; without the Clipboard API the field is selected.
  function setUpCopyButtons() {
    var buttons = document.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById("copy-status");
      if (!field) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        function selected() {
          field.focus();
          field.select();
          if (status) {
            status.textContent = "The link is selected: copy it with your keyboard or menu.";
          }
        }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(function () {
            if (status) {
              status.textContent = "Link copied.";
            }
          }, selected);
        } else {
          selected();
        }
      });
    });
  }

  function start() {
    focusErrorSummary();
    setUpCopyButtons();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
