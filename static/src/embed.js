/*
 * handoff embed loader: shows a handoff form (and the chat that follows it)
 * on another site, in an iframe served by the handoff server.
 *
 * This is the readable source. The served file is static/embed.js, minified
 * from this one by `make generate` (esbuild); edit this file, then run it.
 *
 * Usage, on a page of an origin listed among the form's allowed origins
 * (/admin/forms):
 *
 *   <script src="https://chat.example.com/static/embed.js"
 *           data-form="contact" async></script>
 *
 * Attributes of the script tag:
 *   data-form   required: the form id.
 *   data-mode   "inline" (default): the form right after the script tag;
 *               "launcher": a round button at the bottom right that opens
 *               the form in a panel. Nothing of the server's is loaded into
 *               the page before the visitor opens it.
 *   data-chat   "inline" (default): the chat continues inside the frame;
 *               "tab": the frame opens the chat in a new tab.
 *   data-label  the launcher button's text (default "Chat with us", in the
 *               form's language).
 *   data-title  the iframe's accessible title (default "Contact form", in
 *               the form's language).
 *   data-lang   the language of the form and its chat (en, es, de, fr, ar;
 *               default: the form's setting, else the visitor's browser).
 * Several tags may be on one page; each is handled once (the loader marks it
 * with data-handoff-loaded).
 *
 * Before inserting anything the loader asks the server, without cookies,
 * GET /forms/<id>/embed.json -> {"formId", "title", "allowedOrigins": [...]}
 * and inserts nothing (explaining why on the console) when the form does not
 * exist or this page's origin is not allowed. The host page's
 * Content-Security-Policy, if any, must allow the server in script-src,
 * connect-src and frame-src. The loader styles its elements through the
 * CSSOM only (no <style>, no style attributes), so a policy without
 * 'unsafe-inline' styles is fine, and it never reads or writes cookies or
 * web storage.
 *
 * The frame is /forms/<id>?embed=1&host=<page origin>&referrer=<page URL>
 * (&chat=tab). It talks to the loader with window.postMessage; every message
 * is an object with source: "handoff". The loader accepts a message only
 * from the server's origin and from its own iframe's window, and ignores
 * anything else or anything malformed.
 *   frame -> loader  {type: "ready", page: "form" | "chat" | "other"}
 *                    the page in the frame has loaded.
 *   frame -> loader  {type: "resize", height: <CSS pixels>}
 *                    the height the page needs: the iframe gets it, between
 *                    120 and 4000 px (in launcher mode the panel caps it to
 *                    the viewport and the page scrolls in the frame).
 *   frame -> loader  {type: "handoff", conversationId: "<id>"}
 *                    the visitor was handed off to a conversation.
 *   frame -> loader  {type: "escape"}
 *                    Escape was pressed in the frame: an open launcher
 *                    panel closes (keys in the frame never reach the page).
 *   loader -> frame  {type: "focus"}  (launcher mode, after each opening,
 *                    once the frame is ready): move focus into the page.
 *
 * Hook for site owners: on a hand-off the loader dispatches a bubbling
 * CustomEvent "handoff:conversation" with detail {form, conversationId} on
 * the embed's container (<div class="handoff-embed" data-handoff-form>), so
 * for example:
 *   document.addEventListener("handoff:conversation", (e) =>
 *     analytics.track("contact", e.detail.form));
 *
 * Stable hooks (for tests and site CSS selectors): the container
 * [data-handoff-form="<id>"], the iframe [data-handoff-frame], the launcher
 * button [data-handoff-launcher], the panel [data-handoff-panel] and its
 * close button [data-handoff-close].
 */
(function () {
  "use strict";

  const PREFIX = "handoff: ";
  const SCRIPT_PATH = "/static/embed.js";
  const MIN_HEIGHT = 120;
  const MAX_HEIGHT = 4000;
  const Z = "2147483000";

  const fail = (msg) => console.error(PREFIX + msg);

  // The script tags to handle: this one, and any other loader tag not yet
  // handled (the same file may be included several times, or once for
  // several tags).
  const scripts = [];
  if (document.currentScript && document.currentScript.src) {
    scripts.push(document.currentScript);
  }
  document.querySelectorAll("script[data-form]").forEach((s) => {
    try {
      if (new URL(s.src).pathname.endsWith(SCRIPT_PATH)) {
        scripts.push(s);
      }
    } catch (e) {
      // no src or not a URL: not ours
    }
  });
  scripts.forEach((script) => {
    if (script.hasAttribute("data-handoff-loaded")) {
      return;
    }
    script.setAttribute("data-handoff-loaded", "");
    start(script).catch((err) => fail(String(err)));
  });

  async function start(script) {
    const server = new URL(script.src).origin;
    const d = script.dataset;
    const form = d.form;
    const mode = d.mode || "inline";
    const chat = d.chat || "inline";
    if (!form) {
      return fail(`the script tag ${script.src} needs a data-form attribute with the form id, e.g. data-form="contact".`);
    }
    if (mode !== "inline" && mode !== "launcher") {
      return fail(`data-mode="${mode}" of form "${form}" is not supported: use "inline" or "launcher".`);
    }
    if (chat !== "inline" && chat !== "tab") {
      return fail(`data-chat="${chat}" of form "${form}" is not supported: use "inline" or "tab".`);
    }
    const id = encodeURIComponent(form);
    const lang = d.lang ? `lang=${encodeURIComponent(d.lang)}` : "";
    const admin = ` in /admin/forms on ${server}.`;

    // Ask the server whether this page may show the form; no cookies.
    let res;
    let info;
    try {
      res = await fetch(`${server}/forms/${id}/embed.json${lang ? "?" + lang : ""}`, { credentials: "omit", mode: "cors" });
      info = await res.json();
    } catch (err) {
      if (!res) {
        return fail(`could not reach ${server} to load form "${form}" (${err}). Check that the server is up and that this page's Content-Security-Policy allows it in connect-src and frame-src.`);
      }
    }
    if (res.status === 404) {
      return fail(`there is no form "${form}" on ${server}. Check the data-form attribute against the form ids listed${admin}`);
    }
    if (!res.ok || !info || !Array.isArray(info.allowedOrigins)) {
      return fail(`${server}/forms/${id}/embed.json answered ${res.status} without the form's settings; try again later.`);
    }
    const origin = location.origin;
    if (origin !== server && !info.allowedOrigins.includes(origin)) {
      return fail(`this page's origin ${origin} is not allowed to embed form "${form}". Add it to the form's allowed origins${admin}`);
    }

    const src =
      `${server}/forms/${id}?embed=1&host=${encodeURIComponent(origin)}` +
      `&referrer=${encodeURIComponent(location.href.split("#")[0].slice(0, 2000))}` +
      (chat === "tab" ? "&chat=tab" : "") +
      (mode === "launcher" ? "&panel=1" : "") +
      (lang ? "&" + lang : "");
    const words = info.words || {};

    if (!document.body) {
      await new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve));
    }

    const el = (tag, attrs, style) => {
      const e = document.createElement(tag);
      for (const k in attrs) {
        e.setAttribute(k, attrs[k]);
      }
      Object.assign(e.style, style);
      return e;
    };

    const container = el("div", { class: "handoff-embed", "data-handoff-form": form });
    let frame = null;
    let ready = false;
    let wantFocus = false;

    // In the launcher's panel the iframe is a flex item that may shrink
    // below its height, so the panel's max-height caps it.
    const makeFrame = (style) => {
      frame = el(
        "iframe",
        { title: d.title || words.frame || "Contact form", loading: "eager", "data-handoff-frame": "" },
        Object.assign({ display: "block", width: "100%", height: "480px", border: "0" }, style),
      );
      frame.src = src;
      return frame;
    };

    const focusFrame = () => {
      wantFocus = false;
      frame.focus();
      frame.contentWindow.postMessage({ source: "handoff", type: "focus" }, server);
    };

    let launcher = null;
    let panel = null;
    // On a phone the open panel takes the whole screen.
    const phone = window.matchMedia ? window.matchMedia("(max-width: 36rem)") : null;
    const fitPanel = () => {
      const full = phone && phone.matches;
      Object.assign(panel.style, full
        ? { inset: "0", right: "0", bottom: "0", width: "100vw", height: "100dvh", maxHeight: "none", borderRadius: "0" }
        : { inset: "", right: "16px", bottom: "96px", width: "min(400px, 100vw - 32px)", height: "", maxHeight: "calc(100vh - 120px)", borderRadius: "12px" });
      if (frame) {
        frame.style.flex = full ? "1 1 auto" : "0 1 auto";
      }
    };
    const setOpen = (open) => {
      panel.style.display = open ? "flex" : "none";
      if (open) {
        fitPanel();
      }
      launcher.setAttribute("aria-expanded", String(open));
      if (!open) {
        wantFocus = false;
        launcher.focus();
        return;
      }
      if (!frame) {
        panel.append(makeFrame({ flex: "0 1 auto", minHeight: "0" }));
      }
      if (ready) {
        focusFrame();
      } else {
        wantFocus = true;
      }
    };

    if (mode === "inline") {
      container.append(makeFrame());
      if (document.body.contains(script)) {
        script.after(container);
      } else {
        document.body.append(container);
      }
    } else {
      const font = "600 15px/1.2 system-ui, -apple-system, 'Segoe UI', sans-serif";
      const panelId = "handoff-panel-" + Math.random().toString(36).slice(2);
      launcher = el(
        "button",
        { type: "button", "aria-expanded": "false", "aria-controls": panelId, "data-handoff-launcher": "" },
        {
          position: "fixed", right: "16px", bottom: "24px", zIndex: Z, minWidth: "56px", minHeight: "56px",
          padding: "0 22px", border: "0", borderRadius: "28px", background: "#1d4ed8", color: "#fff",
          font, cursor: "pointer", boxShadow: "0 4px 16px rgba(0,0,0,.25)",
        },
      );
      launcher.textContent = d.label || words.launcher || "Chat with us";
      panel = el(
        "div",
        { id: panelId, role: "dialog", "aria-label": info.title || form, lang: info.lang || "en", dir: info.dir || "ltr", "data-handoff-panel": "" },
        {
          position: "fixed", right: "16px", bottom: "96px", zIndex: Z, display: "none", flexDirection: "column",
          width: "min(400px, 100vw - 32px)", maxHeight: "calc(100vh - 120px)", overflow: "hidden",
          background: "#fff", color: "#111", borderRadius: "12px", boxShadow: "0 8px 32px rgba(0,0,0,.3)",
        },
      );
      const bar = el("div", {}, {
        display: "flex", alignItems: "center", justifyContent: "space-between", flex: "none",
        padding: "4px 4px 4px 16px", borderBottom: "1px solid #e5e7eb", font,
      });
      const heading = el("span");
      heading.textContent = info.title || "";
      const close = el(
        "button",
        { type: "button", "aria-label": words.close || "Close chat", "data-handoff-close": "" },
        {
          width: "40px", height: "40px", border: "0", borderRadius: "20px", background: "transparent",
          color: "inherit", font: "400 24px/1 sans-serif", cursor: "pointer",
        },
      );
      close.textContent = "\u00d7";
      bar.append(heading, close);
      panel.append(bar);
      container.append(launcher, panel);
      document.body.append(container);

      launcher.addEventListener("click", () => setOpen(panel.style.display === "none"));
      close.addEventListener("click", () => setOpen(false));
      document.addEventListener("keydown", (e) => {
        if (e.key === "Escape" && panel.style.display !== "none") {
          setOpen(false);
        }
      });
    }

    window.addEventListener("message", (e) => {
      const m = e.data;
      if (!frame || e.origin !== server || e.source !== frame.contentWindow || !m || m.source !== "handoff") {
        return;
      }
      if (m.type === "ready" && ["form", "chat", "other"].includes(m.page)) {
        ready = true;
        if (wantFocus) {
          focusFrame();
        }
      } else if (m.type === "resize" && typeof m.height === "number" && isFinite(m.height)) {
        // In launcher mode the panel's max-height then caps it.
        frame.style.height = Math.min(Math.max(Math.ceil(m.height), MIN_HEIGHT), MAX_HEIGHT) + "px";
      } else if (m.type === "escape" && panel && panel.style.display !== "none") {
        // Escape pressed inside the frame, whose keys never reach this page.
        setOpen(false);
      } else if (m.type === "handoff" && typeof m.conversationId === "string" && m.conversationId) {
        container.dispatchEvent(
          new CustomEvent("handoff:conversation", {
            detail: { form, conversationId: m.conversationId },
            bubbles: true,
          }),
        );
      }
    });
  }
})();
