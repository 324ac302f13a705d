// times.js shows the times of a customer's page (<time datetime>, written
// in UTC by the server) in the reader's time zone and the page's language:
// recent ones as "3 min ago", older ones as a date and a time, with the
// full date in a tooltip. Message times are clock times, kept by
// chat-core.js; this adds their tooltip. Relative times are refreshed every
// half minute.
(function () {
  "use strict";

  const lang = document.documentElement.lang || undefined;
  let full, medium, rel;
  try {
    full = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short" });
    medium = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    rel = typeof Intl.RelativeTimeFormat === "function" ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  } catch (e) {
    return; // a browser without Intl keeps the server's UTC times
  }

  // A form tells the server the visitor's time zone, for the times in the
  // emails it may send about the conversation.
  document.querySelectorAll('input[name="handoff-tz"]').forEach(function (input) {
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  });

  function show(el) {
    const when = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) {
      return;
    }
    el.title = full.format(when);
    if (el.classList.contains("msg-time")) {
      return;
    }
    const secs = (Date.now() - when.getTime()) / 1000;
    if (rel && secs > -60 && secs < 60) {
      el.textContent = rel.format(0, "second");
    } else if (rel && secs > 0 && secs < 3600) {
      el.textContent = rel.format(-Math.round(secs / 60), "minute");
    } else if (rel && secs > 0 && secs < 6 * 3600) {
      el.textContent = rel.format(-Math.round(secs / 3600), "hour");
    } else {
      el.textContent = medium.format(when);
    }
  }

  function showAll() {
    document.querySelectorAll("time[datetime]").forEach(show);
  }

  showAll();
  window.setInterval(showAll, 30000);
  // Times that arrive later (a live message) get their tooltip too.
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      r.addedNodes.forEach(function (n) {
        if (n.nodeType === 1) {
          if (n.matches("time[datetime]")) {
            show(n);
          }
          n.querySelectorAll("time[datetime]").forEach(show);
        }
      });
    });
  }).observe(document.body, { childList: true, subtree: true });
})();
