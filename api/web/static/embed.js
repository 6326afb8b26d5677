/*
 * Embed the pre-screen chat on another website with one tag:
 *
 *   <script src="https://prescreen.example/static/embed.js" data-api="https://prescreen.example" async></script>
 *
 * Optional: data-target="some-element-id" puts the chat inside that element
 * (by default it goes right after the script tag). The page's origin must be
 * listed in the API's EMBED_ORIGINS. The widget sends its session in the
 * X-Chat-Session header and never needs third-party cookies; it stores
 * nothing in the browser.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    return;
  }
  var assets = new URL(".", script.src).href;
  var api = (script.getAttribute("data-api") || new URL(script.src).origin).replace(/\/+$/, "");
  var targetId = script.getAttribute("data-target");
  var target = targetId ? document.getElementById(targetId) : null;
  if (!target) {
    target = document.createElement("div");
    script.parentNode.insertBefore(target, script.nextSibling);
  }
  target.classList.add("psc-host");

  if (!document.querySelector('link[data-prescreen-css]')) {
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = assets + "chat.css";
    css.setAttribute("data-prescreen-css", "");
    document.head.appendChild(css);
  }

  function start() {
    if (window.PrescreenChat) {
      window.PrescreenChat.init();
      return;
    }
    var code = document.createElement("script");
    code.src = assets + "chat.js";
    document.head.appendChild(code);
  }

  fetch(api + "/chat/widget", { credentials: "omit", cache: "no-store" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("widget " + response.status);
      }
      return response.text();
    })
    .then(function (markup) {
      // Our own server's markup: parsed inert, then moved into the page.
      var parsed = new DOMParser().parseFromString(markup, "text/html");
      var widget = parsed.querySelector("[data-chat-widget]");
      if (!widget) {
        return;
      }
      widget = document.importNode(widget, true);
      widget.setAttribute("data-api", api);
      target.appendChild(widget);
      start();
    })
    .catch(function () {
      target.setAttribute("data-prescreen-error", "");
    });
})();
