/*
 * The pre-screen chat widget: plain JavaScript, no dependencies.
 *
 * - Runs on the API's own pages only: the patient page (/) and /embed, the
 *   page that static/embed.js frames on a trial website. It talks only to the
 *   public chat gateway of that same origin: POST /chat/sessions,
 *   POST /chat/messages (relative URLs; there is no setting to send it elsewhere).
 * - The session token from the response body lives in a variable of this page
 *   and goes back in the X-Chat-Session header. Requests carry no cookies
 *   (credentials: "omit"): inside the frame on a trial website the API is a
 *   third party, whose cookies browsers block. Nothing is written to
 *   localStorage, sessionStorage, IndexedDB or cookies: a reload starts a
 *   fresh chat.
 * - Bot text is inserted with textContent, never as HTML.
 * - Every sentence it shows comes from the widget's markup (data-text-* and
 *   templates in api/web/templates/_chat_widget.html).
 */
(function () {
  "use strict";

  var PAIN_QUESTION = "pain_score";
  var URGENT_OUTCOME = "urgent_care";
  var counter = 0;

  function nextId(prefix) {
    counter += 1;
    return prefix + "-" + counter;
  }

  function Chat(root) {
    var self = this;
    this.root = root;
    this.sessionId = null;
    this.busy = false;
    this.lastRequest = null;
    // How the last answer was given: "start", "button" or "text" (decides where focus goes).
    this.answeredBy = "start";
    this.el = {};
    ["urgent", "urgent-template", "start-area", "start", "chat", "log", "typing", "choices", "form", "input"].forEach(
      function (name) {
        self.el[name] = root.querySelector('[data-role="' + name + '"]');
      }
    );

    this.el.start.addEventListener("click", function () {
      self.start();
    });
    this.el.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.sendTyped();
    });
    // "Start over" and "Go back" say what a patient could type; the bot handles both at any point.
    Array.prototype.forEach.call(root.querySelectorAll("[data-command]"), function (button) {
      button.addEventListener("click", function () {
        if (self.busy) {
          return;
        }
        self.answeredBy = "button";
        if (!self.sessionId) {
          self.start();
          return;
        }
        self.addMessage("user", button.textContent.trim());
        self.request("/chat/messages", { text: button.getAttribute("data-command") });
      });
    });
    // "Read what this chat keeps" links to the privacy notice; on /embed that is a closed <details>: open it.
    Array.prototype.forEach.call(root.querySelectorAll('a[href^="#"]'), function (link) {
      link.addEventListener("click", function () {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (target && target.tagName === "DETAILS") {
          target.open = true;
        }
      });
    });
    this.el.choices.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !self.el.choices.contains(button)) {
        return;
      }
      self.press(button);
    });
  }

  Chat.prototype.text = function (key) {
    return this.root.getAttribute("data-text-" + key) || "";
  };

  Chat.prototype.start = function () {
    if (this.busy) {
      return;
    }
    this.el["start-area"].hidden = true;
    this.el.chat.hidden = false;
    this.answeredBy = "start";
    this.sessionId = null;
    this.request("/chat/sessions", {});
  };

  Chat.prototype.sendTyped = function () {
    var input = this.el.input;
    var value = input.value.trim();
    if (!value || this.busy) {
      input.focus();
      return;
    }
    this.answeredBy = "text";
    this.addMessage("user", value);
    input.value = "";
    this.request("/chat/messages", { text: value });
  };

  Chat.prototype.press = function (button) {
    if (this.busy) {
      return;
    }
    var action = button.getAttribute("data-action");
    if (action === "retry") {
      this.answeredBy = "button";
      this.request(this.lastRequest.path, this.lastRequest.body);
      return;
    }
    if (action === "new-chat") {
      this.start();
      return;
    }
    this.answeredBy = "button";
    this.addMessage("user", button.getAttribute("data-title") || button.textContent.trim());
    if (button.hasAttribute("data-payload")) {
      this.request("/chat/messages", { payload: button.getAttribute("data-payload") });
    } else {
      this.request("/chat/messages", { text: button.getAttribute("data-text") });
    }
  };

  Chat.prototype.setBusy = function (busy) {
    this.busy = busy;
    this.el.typing.hidden = !busy;
    this.el.log.setAttribute("aria-busy", busy ? "true" : "false");
    this.root.classList.toggle("psc-is-busy", busy);
  };

  Chat.prototype.request = function (path, body) {
    var self = this;
    var headers = { "Content-Type": "application/json" };
    if (this.sessionId) {
      headers["X-Chat-Session"] = this.sessionId;
    }
    this.lastRequest = { path: path, body: body };
    this.setBusy(true);
    fetch(path, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            self.setBusy(false);
            self.handle(response.status, data);
          });
      })
      .catch(function () {
        self.setBusy(false);
        self.showProblem(self.text("network"), "retry");
      });
  };

  Chat.prototype.handle = function (status, data) {
    if (!data || !Array.isArray(data.messages)) {
      this.showProblem(this.text("network"), "retry");
      return;
    }
    if (data.session_id) {
      this.sessionId = data.session_id;
    }
    if (status >= 400) {
      var said = data.messages.length ? data.messages[0].text : this.text("network");
      var action = null;
      if (data.error === "session_unknown") {
        action = "new-chat";
      } else if (data.retry) {
        action = "retry";
      }
      this.showProblem(said, action);
      return;
    }
    this.renderTurn(data);
  };

  Chat.prototype.addMessage = function (who, text, extraClass) {
    var node = document.createElement("div");
    node.className = "psc-msg psc-" + who + (extraClass ? " " + extraClass : "");
    node.id = nextId("psc-msg");
    var label = document.createElement("span");
    label.className = "psc-sr";
    label.textContent = this.text(who === "user" ? "you" : "bot") + " ";
    var body = document.createElement("p");
    body.textContent = text;
    node.appendChild(label);
    node.appendChild(body);
    this.el.log.appendChild(node);
    return node;
  };

  Chat.prototype.clearChoices = function () {
    this.el.choices.textContent = "";
    this.el.choices.hidden = true;
  };

  Chat.prototype.makeButton = function (title, attributes, extraClass) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "psc-button psc-choice" + (extraClass ? " " + extraClass : "");
    button.textContent = title;
    button.setAttribute("data-title", title);
    Object.keys(attributes).forEach(function (name) {
      button.setAttribute(name, attributes[name]);
    });
    return button;
  };

  Chat.prototype.makeGroup = function (labelledBy, className) {
    var group = document.createElement("div");
    group.setAttribute("role", "group");
    if (labelledBy) {
      group.setAttribute("aria-labelledby", labelledBy);
    }
    group.className = className;
    this.el.choices.appendChild(group);
    return group;
  };

  Chat.prototype.renderButtons = function (question, buttons) {
    var self = this;
    var group = this.makeGroup(question && question.id, "psc-options");
    buttons.forEach(function (b) {
      group.appendChild(self.makeButton(b.title, { "data-payload": b.payload }));
    });
  };

  Chat.prototype.renderPain = function (question, buttons) {
    var self = this;
    var legendId = nextId("psc-pain-legend");
    var group = this.makeGroup(question && question.id, "psc-pain");
    group.setAttribute("aria-describedby", legendId);
    var row = document.createElement("div");
    row.className = "psc-pain-row";
    for (var score = 0; score <= 10; score += 1) {
      row.appendChild(self.makeButton(String(score), { "data-text": String(score) }, "psc-pain-button"));
    }
    group.appendChild(row);
    var legend = document.createElement("p");
    legend.className = "psc-pain-legend";
    legend.id = legendId;
    legend.textContent = this.text("pain-group");
    group.appendChild(legend);
    if (buttons.length) {
      var other = document.createElement("p");
      other.className = "psc-sr";
      other.id = nextId("psc-other");
      other.textContent = this.text("other-choices");
      this.el.choices.appendChild(other);
      var rest = this.makeGroup(other.id, "psc-options");
      buttons.forEach(function (b) {
        rest.appendChild(self.makeButton(b.title, { "data-payload": b.payload }));
      });
    }
  };

  Chat.prototype.renderTurn = function (data) {
    var self = this;
    var first = null;
    var question = null;
    var buttons = [];
    this.clearChoices();
    // The question id and outcome (chat contract, no answers): for styling and tests.
    this.root.setAttribute("data-asks", data.asks || "");
    if (data.outcome) {
      this.root.setAttribute("data-outcome", data.outcome);
    }
    data.messages.forEach(function (message) {
      var node = self.addMessage("bot", message.text, data.outcome ? "psc-outcome-" + data.outcome : "");
      first = first || node;
      question = node;
      (message.buttons || []).forEach(function (b) {
        if (b && typeof b.title === "string" && typeof b.payload === "string") {
          buttons.push(b);
        }
      });
    });
    if (data.urgent || data.outcome === URGENT_OUTCOME) {
      this.showUrgent();
      return;
    }
    if (data.asks === PAIN_QUESTION) {
      this.renderPain(question, buttons);
    } else if (buttons.length) {
      this.renderButtons(question, buttons);
    }
    this.el.choices.hidden = !this.el.choices.firstChild;
    this.moveFocus(first);
  };

  Chat.prototype.moveFocus = function (first) {
    var target = this.el.input;
    if (this.answeredBy !== "text") {
      target = this.el.choices.querySelector("button") || this.el.input;
    }
    if (document.activeElement !== target) {
      target.focus({ preventScroll: true });
    }
    if (first) {
      first.scrollIntoView({ block: "nearest" });
    }
    target.scrollIntoView({ block: "nearest" });
  };

  Chat.prototype.showUrgent = function () {
    var panel = this.el.urgent;
    if (!panel.firstElementChild) {
      panel.appendChild(this.el["urgent-template"].content.cloneNode(true));
      panel.classList.add("psc-urgent-active");
    }
    var heading = panel.querySelector("[tabindex]");
    panel.scrollIntoView({ block: "start" });
    if (heading) {
      heading.focus({ preventScroll: true });
    }
  };

  Chat.prototype.showProblem = function (text, action) {
    var node = this.addMessage("bot", text, "psc-notice");
    if (action) {
      var group = document.createElement("div");
      group.className = "psc-options psc-recover";
      var title = this.text(action === "retry" ? "retry" : "new-chat");
      group.appendChild(this.makeButton(title, { "data-action": action }));
      this.el.choices.insertBefore(group, this.el.choices.firstChild);
      this.el.choices.hidden = false;
      group.firstChild.focus({ preventScroll: true });
      group.firstChild.scrollIntoView({ block: "nearest" });
    } else {
      node.scrollIntoView({ block: "nearest" });
    }
  };

  function initAll() {
    var widgets = document.querySelectorAll("[data-chat-widget]:not([data-chat-ready])");
    Array.prototype.forEach.call(widgets, function (root) {
      root.setAttribute("data-chat-ready", "");
      root.prescreenChat = new Chat(root);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
})();
