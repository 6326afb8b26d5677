/*
 * Embed the pre-screen chat on a trial website with one tag:
 *
 *   <script src="https://prescreen.example/static/embed.js" async></script>
 *
 * The tag adds one <iframe> of https://prescreen.example/embed and nothing
 * else: the chat's markup, static/chat.js, the patient's answers, the bot's
 * replies and the chat session token all live inside the frame, on the API's
 * origin. The trial website's own scripts (analytics, tag managers, session
 * replay) cannot read into a frame of another origin, so they never see them.
 * The frame sends nothing to the page (no postMessage, not even its height,
 * which would tell the page how far the chat has gone).
 *
 * - The API is always this script's own origin (new URL(script.src).origin).
 *   A data-api attribute is ignored: it used to choose the server, which let
 *   any page point the chat at any server.
 * - data-target="some-element-id" puts the frame inside that element (by
 *   default it goes right after the script tag).
 * - The website's origin must be listed in the API's EMBED_ORIGINS: /embed
 *   answers with Content-Security-Policy frame-ancestors <those origins>, and
 *   browsers show the frame on no other site.
 * - The frame is sandboxed: scripts, its own origin (so that it can talk to
 *   its API; safe, because that origin is not the website's) and forms, plus
 *   allow-top-navigation-to-custom-protocols so that the urgent-care
 *   "Call 911" / "Call 811" tel: links work (Chromium blocks them otherwise;
 *   it allows no http(s) navigation of the page). No popups, no navigating
 *   the page, no `allow` attribute (no camera, microphone, location...), and
 *   no referrer (the website's address is not sent to the API).
 * - Full width of its container, a fixed height; the chat scrolls inside.
 *   The website may restyle it with the class "prescreen-frame" (!important,
 *   the sizes below are inline).
 * - Nothing is stored in the browser and no cookies are needed: inside the
 *   frame the session token stays in a variable of chat.js.
 */
(function () {
  "use strict";

  // The frame's accessible name (screen readers announce it before entering the frame).
  // The same words as the <title> of api/web/templates/embed.html, which a browser test
  // checks; the only words in this file, since a frame's name cannot come from its page.
  var FRAME_TITLE = "Research study pre-screen chat";
  var FRAME_PATH = "/embed";
  var SANDBOX = "allow-scripts allow-same-origin allow-forms allow-top-navigation-to-custom-protocols";

  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var origin = new URL(script.src).origin;
  var targetId = script.getAttribute("data-target");

  function makeFrame() {
    var frame = document.createElement("iframe");
    frame.title = FRAME_TITLE;
    frame.className = "prescreen-frame";
    frame.setAttribute("sandbox", SANDBOX);
    frame.setAttribute("referrerpolicy", "no-referrer");
    // CSSOM, not a style attribute: works under the website's own CSP too.
    frame.style.display = "block";
    frame.style.boxSizing = "border-box";
    frame.style.width = "100%";
    frame.style.maxWidth = "100%";
    frame.style.height = "40rem";
    frame.style.height = "min(40rem, 90vh)"; // ignored where min() is not understood
    frame.style.minHeight = "20rem";
    frame.style.border = "0";
    frame.src = origin + FRAME_PATH;
    return frame;
  }

  function place() {
    var target = targetId ? document.getElementById(targetId) : null;
    if (target) {
      target.appendChild(makeFrame());
    } else if (script.parentNode) {
      script.parentNode.insertBefore(makeFrame(), script.nextSibling);
    }
  }

  // An async tag may run before its data-target element has been parsed.
  if (targetId && !document.getElementById(targetId) && document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", place);
  } else {
    place();
  }
})();
