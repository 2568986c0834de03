// The live word count on the trial piece's form; the server counts again on save, and the page works without it.
(function () {
  "use strict";

  function countWords(text) {
    var words = text.trim().split(/\s+/);
    return words.length === 1 && words[0] === "" ? 0 : words.length;
  }

  function setUpWordCount() {
    var fields = document.querySelectorAll("textarea[data-word-count]");
    Array.prototype.forEach.call(fields, function (field) {
      var output = document.getElementById(field.getAttribute("data-word-count"));
      var note = output ? output.closest("[data-min]") : null;
      if (!output || !note) {
        return;
      }
      var min = parseInt(note.getAttribute("data-min"), 10) || 0;
      var max = parseInt(note.getAttribute("data-max"), 10) || 0;
      var low = note.querySelector("[data-words-low]");
      var high = note.querySelector("[data-words-high]");
      function update() {
        var count = countWords(field.value);
        output.textContent = String(count);
        if (low) {
          low.hidden = !(count > 0 && min && count < min);
        }
        if (high) {
          high.hidden = !(max && count > max);
        }
      }
      field.addEventListener("input", update);
      update();
    });
  }

  // The deadline in the reader's own time zone, as the browser knows it (the page gives the site's zone).
  function showLocalTimes() {
    if (!window.Intl || !Intl.DateTimeFormat) {
      return;
    }
    var lang = document.documentElement.lang || undefined;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var times = document.querySelectorAll("time[data-local-time]");
    Array.prototype.forEach.call(times, function (time) {
      var moment = new Date(time.getAttribute("datetime"));
      if (isNaN(moment.getTime()) || !zone) {
        return;
      }
      time.textContent = new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" }).format(moment);
      var note = time.parentNode.querySelector("[data-local-zone]");
      if (note) {
        note.textContent = zone;
      }
    });
  }

  function start() {
    setUpWordCount();
    showLocalTimes();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
