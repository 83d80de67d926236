// Live rooms: the schedule form's time zone, and the room page (listen, speak, hands,
// reactions, chat, the waiting line). Protocol: parvis/live/connection.py and relay.py.
(function () {
  "use strict";

  var tz = document.querySelector('input[name="tz_offset"]');
  if (tz) { tz.value = String(new Date().getTimezoneOffset()); }

  var root = document.getElementById("live-room");
  if (!root || root.dataset.state !== "live") { return; }

  var roomId = root.dataset.roomId;
  var myId = root.dataset.userId ? Number(root.dataset.userId) : null;
  var myRole = root.dataset.role;
  var ws = null;
  var recorder = null;
  var handRaised = false;
  var players = {};
  var stats = { records: 0, media: 0, inits: 0, appended: 0, chunksSent: 0, bytesSent: 0 };
  window.liveStats = stats;

  var $ = function (id) { return document.getElementById(id); };
  var statusEl = $("status");
  function say(text) { statusEl.textContent = text; }
  function onStage(role) { return role === "host" || role === "cohost" || role === "speaker"; }
  function manages(role) { return role === "host" || role === "cohost"; }
  function send(obj) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); } }

  // --- Playback: one MediaSource per speaker stream, appended in order, kept near the live edge.
  function Player(stream) {
    var self = this;
    this.queue = [];
    this.buffer = null;
    this.audio = document.createElement("audio");
    this.audio.autoplay = true;
    this.audio.dataset.stream = String(stream);
    $("players").appendChild(this.audio);
    this.source = new MediaSource();
    this.audio.src = URL.createObjectURL(this.source);
    this.source.addEventListener("sourceopen", function () {
      self.buffer = self.source.addSourceBuffer('audio/webm; codecs="opus"');
      self.buffer.mode = "sequence";
      self.buffer.addEventListener("updateend", function () { self.pump(); });
      self.pump();
    });
  }
  Player.prototype.push = function (bytes) { this.queue.push(bytes); this.pump(); };
  Player.prototype.pump = function () {
    if (!this.buffer || this.buffer.updating || !this.queue.length) { return; }
    try {
      this.buffer.appendBuffer(this.queue.shift());
      stats.appended += 1;
    } catch (err) {
      this.queue = [];  // a full or broken buffer: drop what is queued and catch up
    }
    var a = this.audio;
    if (a.buffered.length) {
      var end = a.buffered.end(a.buffered.length - 1);
      if (end - a.currentTime > 1.0) { a.currentTime = Math.max(0, end - 0.2); }
      if (end - a.buffered.start(0) > 30 && !this.buffer.updating) {
        try { this.buffer.remove(0, end - 10); } catch (err) { /* retried next time */ }
      }
    }
    if (a.paused) { a.play().catch(function () {}); }
  };
  Player.prototype.close = function () { this.audio.remove(); };

  function sameBytes(a, b) {
    if (!a || a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } }
    return true;
  }

  function onRecords(data) {
    var view = new DataView(data);
    var pos = 0;
    while (pos + 21 <= data.byteLength) {
      var kind = view.getUint8(pos);
      var stream = view.getUint32(pos + 1);
      var length = view.getUint32(pos + 17);
      var payload = new Uint8Array(data, pos + 21, length);
      pos += 21 + length;
      stats.records += 1;
      if (stream === myId) { continue; }  // never play yourself back
      if (kind === 1) {
        stats.inits += 1;
        // The same init again (a joiner can get it both at the welcome and from the relay's
        // next flush): keep playing. A different one is a new stream: start a new player.
        if (players[stream] && sameBytes(players[stream].init, payload)) { continue; }
        if (players[stream]) { players[stream].close(); }
        players[stream] = new Player(stream);
        players[stream].init = payload.slice();
        players[stream].push(players[stream].init);
      } else if (players[stream]) {
        stats.media += 1;
        players[stream].push(payload.slice());
      }
    }
  }

  // --- Stage, hands, chat, reactions.
  function button(label, cls, handler) {
    var b = document.createElement("button");
    b.type = "button"; b.className = cls; b.textContent = label;
    b.addEventListener("click", handler);
    return b;
  }
  function manage(action, userId) { send({ type: "manage", action: action, user_id: userId }); }

  function renderStage(stage) {
    var list = $("stage");
    list.textContent = "";
    stage.forEach(function (p) {
      var li = document.createElement("li");
      li.dataset.userId = String(p.user_id);
      var name = document.createElement("strong");
      name.textContent = "@" + p.username;
      li.appendChild(name);
      var role = document.createElement("span");
      role.className = "tag"; role.textContent = p.role;
      li.appendChild(document.createTextNode(" ")); li.appendChild(role);
      if (p.muted) {
        var m = document.createElement("span");
        m.className = "tag"; m.textContent = "muted";
        li.appendChild(document.createTextNode(" ")); li.appendChild(m);
      }
      if (manages(myRole) && p.role !== "host" && p.user_id !== myId) {
        var tools = document.createElement("span");
        tools.className = "stage-tools";
        tools.appendChild(button(p.muted ? "Unmute" : "Mute", "link", function () { manage(p.muted ? "unmute" : "mute", p.user_id); }));
        tools.appendChild(button("To listeners", "link", function () { manage("listener", p.user_id); }));
        tools.appendChild(button("Remove", "link", function () { manage("remove", p.user_id); }));
        tools.appendChild(button("Block", "link danger", function () { manage("block", p.user_id); }));
        li.appendChild(tools);
      }
      list.appendChild(li);
    });
  }

  function renderHands(hands) {
    var list = $("hands");
    list.textContent = "";
    if (!hands.length) {
      var none = document.createElement("li");
      none.className = "empty"; none.textContent = "No raised hands.";
      list.appendChild(none);
    }
    hands.forEach(function (h) {
      var li = document.createElement("li");
      li.textContent = "✋ @" + h.username + " ";
      if (manages(myRole)) {
        li.appendChild(button("Invite to speak", "link", function () { manage("speaker", h.user_id); }));
        if (myRole === "host") {
          li.appendChild(document.createTextNode(" · "));
          li.appendChild(button("Make co-host", "link", function () { manage("cohost", h.user_id); }));
        }
      }
      list.appendChild(li);
    });
    var mine = hands.some(function (h) { return h.user_id === myId; });
    setHand(mine);
  }

  function setHand(raised) {
    handRaised = raised;
    var b = $("hand");
    if (b) { b.textContent = raised ? "Lower hand" : "Raise hand"; }
  }

  function addChat(ev) {
    var li = document.createElement("li");
    var who = document.createElement("strong");
    who.textContent = "@" + ev.user + " ";
    li.appendChild(who);
    var body = document.createElement("span");
    body.innerHTML = ev.html;  // sanitised on the server by social.markup (nh3 allow-list)
    li.appendChild(body);
    var log = $("chat");
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function showReaction(ev) {
    var s = $("reaction-stream");
    if (!s) { return; }
    var r = document.createElement("span");
    r.className = "reaction-pop"; r.textContent = ev.reaction;
    r.title = "@" + ev.user;
    s.appendChild(r);
    setTimeout(function () { r.remove(); }, 2500);
  }

  function applyRole(role, muted) {
    myRole = role;
    root.dataset.role = role;
    var can = onStage(role) && !muted;
    $("speak").hidden = !can || !!recorder;
    $("stop-speaking").hidden = !recorder;
    if (!can && recorder) { stopSpeaking(); }
    if ($("hand")) { $("hand").hidden = onStage(role) || !ws; }
    $("hands-panel").hidden = !manages(role);
  }

  function onEvent(ev) {
    switch (ev.type) {
      case "waiting":
        $("waiting").hidden = false;
        $("waiting").textContent = "Many people are joining. You are number " + ev.position +
          " in line; expected wait about " + Math.ceil(ev.expected_wait_s) + " s. Keep this page open.";
        say("Waiting to be let in…");
        break;
      case "welcome":
        $("waiting").hidden = true;
        say(onStage(ev.me.role) ? "You are on stage." : "Listening.");
        renderStage(ev.stage);
        applyRole(ev.me.role, false);
        renderHands(ev.hands);
        $("chat").textContent = "";
        ev.chat.forEach(addChat);
        $("count").textContent = ev.here + " here";
        break;
      case "stage":
        renderStage(ev.stage); renderHands(ev.hands);
        ev.stage.forEach(function (p) { if (p.user_id === myId) { applyRole(p.role, p.muted); } });
        if (!ev.stage.some(function (p) { return p.user_id === myId; }) && onStage(myRole)) { applyRole("listener", false); }
        break;
      case "you": applyRole(ev.role, ev.muted); break;
      case "hand": renderHands(ev.hands); break;
      case "chat": addChat(ev); break;
      case "reaction": showReaction(ev); break;
      case "count": $("count").textContent = ev.here + " here"; break;
      case "ended": say("The room has ended."); finish(); break;
      case "removed": say(ev.message); finish(); break;
      case "error": say(ev.message); break;
    }
  }

  function finish() {
    stopSpeaking();
    ["listen", "speak", "stop-speaking", "hand"].forEach(function (id) { if ($(id)) { $(id).hidden = true; } });
  }

  // In a join storm the server takes connections only as fast as it can serve them, and the
  // rest wait for it before the waiting line can tell them their place: say so, not nothing.
  var SLOW_CONNECT_MS = 3000;

  function connect() {
    if (ws) { return Promise.resolve(); }
    return new Promise(function (resolve) {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var opened = false;
      say("Connecting…");
      var slow = setTimeout(function () {
        if (!opened) { say("Many people are joining: waiting for the room to take your connection…"); }
      }, SLOW_CONNECT_MS);
      ws = new WebSocket(scheme + location.host + "/live/rooms/" + roomId + "/ws");
      ws.binaryType = "arraybuffer";
      ws.onopen = function () { opened = true; clearTimeout(slow); say("Connecting…"); resolve(); };
      ws.onmessage = function (m) {
        if (typeof m.data === "string") { onEvent(JSON.parse(m.data)); } else { onRecords(m.data); }
      };
      ws.onclose = function () {
        clearTimeout(slow);
        if (!opened) { say("Could not reach the room. Press Listen to try again."); }
        ws = null; stopSpeaking(); $("listen").hidden = false; $("listen").textContent = "Listen again";
      };
      $("listen").hidden = true;
    });
  }

  var sending = Promise.resolve();
  function startSpeaking() {
    connect().then(function () {
      return navigator.mediaDevices.getUserMedia({ audio: true });
    }).then(function (mic) {
      recorder = new MediaRecorder(mic, { mimeType: "audio/webm;codecs=opus", audioBitsPerSecond: 32000 });
      recorder.ondataavailable = function (e) {
        if (!e.data.size) { return; }
        // Keep chunks in order: the relay follows one continuous WebM stream.
        sending = sending.then(function () { return e.data.arrayBuffer(); }).then(function (buf) {
          if (ws && ws.readyState === 1) { ws.send(buf); stats.chunksSent += 1; stats.bytesSent += buf.byteLength; }
        });
      };
      recorder.start(60);
      say("You are speaking.");
      applyRole(myRole, false);
    }).catch(function (err) { say("Microphone unavailable: " + err.message); });
  }

  function stopSpeaking() {
    if (!recorder) { return; }
    var r = recorder;
    recorder = null;
    try { r.stop(); } catch (err) { /* already stopped */ }
    r.stream.getTracks().forEach(function (t) { t.stop(); });
    if ($("speak")) { applyRole(myRole, false); }
  }

  $("listen").addEventListener("click", function () { connect(); });
  $("speak").addEventListener("click", startSpeaking);
  $("stop-speaking").addEventListener("click", stopSpeaking);
  if ($("hand")) {
    $("hand").addEventListener("click", function () { send({ type: "hand", raised: !handRaised }); });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".reaction"), function (b) {
    b.addEventListener("click", function () { send({ type: "react", reaction: b.dataset.reaction }); });
  });
  var form = $("chat-form");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var input = $("chat-text");
      if (input.value.trim()) { send({ type: "chat", text: input.value }); input.value = ""; }
    });
  }
  if (onStage(myRole)) { $("speak").hidden = false; }
})();
