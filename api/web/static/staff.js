/*
 * The coordinators' forms. Pages are rendered on the server; every change goes
 * to the JSON API (api/routes/auth.py, api/routes/coordinators.py):
 *
 *   <form data-api-form data-url="/coordinator/referrals/ID/status" [data-method="POST"]
 *         [data-done="status" | data-next="/staff/..." | data-follow] [data-login]>
 *
 * The form's named fields become a JSON body ("group[key]" fields an object
 * under "group"). The session's CSRF token comes
 * from <meta name="csrf-token"> (rendered from the server-side session) and
 * goes in the X-CSRF-Token header, which the API checks on every change
 * (api/deps.py). On success the page moves on (data-next; data-follow: the
 * address the answer's "next" names, one of our own pages; or reloads itself
 * with ?done=...); on failure the API's message is shown in the form's alert.
 *
 * The queue's search form is one of these (data-follow): what it holds can be
 * a name or a phone number, so it is posted, never put in an address; the
 * server answers with the queue's address carrying only a handle for it.
 */
(function () {
  "use strict";

  var FALLBACK = "That did not work. Please try again.";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function showError(form, text) {
    var box = form.querySelector('[data-role="form-error"]');
    if (!box) {
      return;
    }
    box.textContent = text || FALLBACK;
    box.focus();
  }

  // A field named "group[key]" goes into an object: {"group": {"key": value}} (the screening form).
  var NESTED = /^([a-z_]+)\[([a-z0-9_]+)\]$/;

  function bodyOf(form) {
    var body = {};
    new FormData(form).forEach(function (value, name) {
      var nested = NESTED.exec(name);
      if (nested) {
        if (typeof body[nested[1]] !== "object" || body[nested[1]] === null) {
          body[nested[1]] = {};
        }
        body[nested[1]][nested[2]] = value;
        return;
      }
      body[name] = value;
    });
    return body;
  }

  function nextUrl(form) {
    if (form.hasAttribute("data-next")) {
      return form.getAttribute("data-next");
    }
    return window.location.pathname + "?done=" + encodeURIComponent(form.getAttribute("data-done") || "");
  }

  // Only a path of our own pages (no other host, no scheme).
  function ownPage(url) {
    return typeof url === "string" && /^\/staff\/[A-Za-z0-9_\/?=&.-]*$/.test(url) && url.indexOf("//") < 0;
  }

  function moveOn(form, response) {
    if (!form.hasAttribute("data-follow")) {
      window.location.assign(nextUrl(form));
      return null;
    }
    return response.json().then(function (data) {
      if (data && ownPage(data.next)) {
        window.location.assign(data.next);
        return;
      }
      throw new Error("no next page");
    });
  }

  function submit(form) {
    var button = form.querySelector('button[type="submit"]');
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    var token = csrfToken();
    if (token) {
      headers["X-CSRF-Token"] = token;
    }
    form.setAttribute("aria-busy", "true");
    if (button) {
      button.disabled = true;
    }
    function done() {
      form.removeAttribute("aria-busy");
      if (button) {
        button.disabled = false;
      }
    }
    fetch(form.getAttribute("data-url"), {
      method: form.getAttribute("data-method") || "POST",
      headers: headers,
      body: JSON.stringify(bodyOf(form)),
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (response.ok) {
          return moveOn(form, response);
        }
        if (response.status === 401 && !form.hasAttribute("data-login")) {
          window.location.assign("/staff/login?next=" + encodeURIComponent(window.location.pathname));
          return null;
        }
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            done();
            showError(form, data && typeof data.detail === "string" ? data.detail : FALLBACK);
          });
      })
      .catch(function () {
        done();
        showError(form, FALLBACK);
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-api-form")) {
      return;
    }
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") {
      return;
    }
    submit(form);
  });

  // After a change the page reloads with a confirmation: move focus there so it is read out.
  function focusFlash() {
    var flash = document.querySelector("[data-flash]");
    if (flash) {
      flash.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFlash);
  } else {
    focusFlash();
  }
})();
