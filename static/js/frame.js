// frame.js runs on every page shown in embed mode (?embed=1), inside the
// iframe that the loader (/static/embed.js) or a plain <iframe> put on
// another site. It talks to the embedding page and to nobody else:
//
//   frame → page  {source: "handoff", type: "ready", page: "form"|"chat"|"other"}
//                 {source: "handoff", type: "resize", height: <px>}
//                 {source: "handoff", type: "escape"} (a launcher closes)
//                 {source: "handoff", type: "handoff", conversationId: "..."}
//   page → frame  {source: "handoff", type: "focus"}
//
// Messages go out with targetOrigin set to the embedding page's origin (the
// server checked it against the form's allowed origins, or the browser's
// ancestorOrigins, which the page's CSP frame-ancestors already vetted), so
// no other page can read them; messages in are taken only from the parent
// window at that origin.
(function () {
  "use strict";

  // word is the text key in the page's language (<meta
  // name="handoff-words">), else english.
  function word(key, english) {
    try {
      const el = document.querySelector('meta[name="handoff-words"]');
      const words = el ? JSON.parse(el.content) : {};
      return typeof words[key] === "string" && words[key] !== "" ? words[key] : english;
    } catch (e) {
      return english;
    }
  }

  if (window.parent === window) {
    return; // opened on its own, not in a frame
  }
  const body = document.body;
  let parentOrigin = body.dataset.embedHost || "";
  if (!parentOrigin && window.location.ancestorOrigins && window.location.ancestorOrigins.length > 0) {
    parentOrigin = window.location.ancestorOrigins[0];
  }
  if (!parentOrigin || parentOrigin === "null") {
    return;
  }

  function post(message) {
    message.source = "handoff";
    window.parent.postMessage(message, parentOrigin);
  }

  const main = document.getElementById("main") || body;
  const chat = document.getElementById("chat");
  const form = document.querySelector('[data-testid="handoff-form"]');

  // ---- height ---------------------------------------------------------------

  let sent = 0;
  let queued = false;

  function contentHeight() {
    const style = window.getComputedStyle(body);
    const bottom = main.getBoundingClientRect().bottom + window.scrollY;
    return Math.ceil(bottom + parseFloat(window.getComputedStyle(main).marginBottom || "0") + parseFloat(style.paddingBottom || "0"));
  }

  function measure() {
    queued = false;
    const height = contentHeight();
    if (Math.abs(height - sent) >= 1) {
      sent = height;
      post({ type: "resize", height: height });
    }
  }

  function queueMeasure() {
    if (!queued) {
      queued = true;
      window.requestAnimationFrame(measure);
    }
  }

  if (window.ResizeObserver) {
    new ResizeObserver(queueMeasure).observe(main);
  }
  window.addEventListener("load", queueMeasure);
  window.addEventListener("resize", queueMeasure);

  // ---- page ---------------------------------------------------------------------

  post({ type: "ready", page: chat ? "chat" : form ? "form" : "other" });
  if (chat && chat.dataset.conversationId) {
    post({ type: "handoff", conversationId: chat.dataset.conversationId });
  }
  queueMeasure();

  // Keys pressed in the frame never reach the page: Escape is passed on so
  // that a launcher's panel closes from inside it too.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !event.defaultPrevented) {
      post({ type: "escape" });
    }
  });

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== parentOrigin) {
      return;
    }
    const data = event.data;
    if (!data || data.source !== "handoff" || data.type !== "focus") {
      return;
    }
    const target = document.querySelector("#composer-body:not([disabled])") ||
      (form && form.querySelector("input:not([type=hidden]), textarea, select"));
    if (target) {
      target.focus();
    }
  });

  // ---- chat in a new tab ------------------------------------------------------

  // With data-chat="tab" the form posts to a new tab; the frame then says
  // where the conversation went and offers the form again.
  if (form && form.dataset.chat === "tab") {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        const note = document.createElement("div");
        note.className = "alert tab-notice";
        note.setAttribute("role", "status");
        note.dataset.testid = "tab-notice";
        const text = document.createElement("p");
        text.textContent = word("tab_notice", "Your conversation continues in a new tab.");
        const again = document.createElement("button");
        again.type = "button";
        again.className = "button";
        again.textContent = word("back_to_form", "Back to the form");
        again.addEventListener("click", function () {
          note.remove();
          form.hidden = false;
          queueMeasure();
        });
        note.append(text, again);
        form.hidden = true;
        form.parentNode.insertBefore(note, form);
        queueMeasure();
      }, 0);
    });
  }
})();
