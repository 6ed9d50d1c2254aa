// The desktop's browser phone: JsSIP (served by the console) registers the agent's
// SIP account over Asterisk's secure WebSocket and takes the calls the ACD sends.
// The credentials (user, realm and the stored digest, never a password) come from
// /api/desktop/phone for this session only and live in this closure, nowhere else.
(() => {
  const panel = document.getElementById('phone');
  if (!panel) return;
  const $ = (id) => document.getElementById(id);
  const AUTO_KEY = 'callcenter.phone.auto-answer';
  const LABELS = {
    starting: 'Starting…', connecting: 'Connecting…', registered: 'Ready for calls',
    unregistered: 'Not registered', failed: 'Not registered', disconnected: 'No connection',
    ringing: 'Ringing', talking: 'On call', unavailable: 'Unavailable',
  };
  let ua = null;
  let socket = null;
  let session = null; // the one call this phone handles
  let registered = false;
  let mediaTimer = null;

  function show(state, detail) {
    const badge = $('phone-state');
    badge.dataset.state = state;
    badge.textContent = LABELS[state] || state;
    $('phone-error').textContent = detail || '';
    const ringing = state === 'ringing';
    $('phone-answer').disabled = !ringing;
    $('phone-hangup').disabled = !(ringing || state === 'talking');
    $('phone-mute').disabled = state !== 'talking';
  }

  // While talking, what the browser's own RTP counters say: the agent sees that the
  // caller's audio arrives and hers leaves (a dead path shows as counts that stop).
  function media() {
    const pc = session && session.connection;
    if (!pc) return;
    pc.getStats().then((report) => {
      let received = 0;
      let sent = 0;
      report.forEach((stat) => {
        if (stat.kind !== 'audio') return;
        if (stat.type === 'inbound-rtp') received += stat.packetsReceived || 0;
        if (stat.type === 'outbound-rtp') sent += stat.packetsSent || 0;
      });
      const line = $('phone-media');
      line.dataset.in = String(received);
      line.dataset.out = String(sent);
      line.textContent = `Audio packets in ${received}, out ${sent}`;
    }).catch(() => {});
  }

  function idle() {
    clearInterval(mediaTimer);
    mediaTimer = null;
    $('phone-media').textContent = '';
    session = null;
    $('phone-peer').textContent = '';
    $('phone-audio').srcObject = null;
    $('phone-mute').setAttribute('aria-pressed', 'false');
    $('phone-mute').textContent = 'Mute';
    show(registered ? 'registered' : 'unregistered');
  }

  function answer() {
    if (!session || session.isEstablished()) return;
    session.answer({ mediaConstraints: { audio: true, video: false } });
  }

  function track(peerconnection) {
    peerconnection.addEventListener('track', (event) => {
      const [stream] = event.streams;
      if (stream) $('phone-audio').srcObject = stream;
    });
  }

  function incoming(event) {
    if (event.originator !== 'remote') return;
    const call = event.session;
    if (session) { // one call at a time: the ACD sends one; anything else is busy
      call.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
      return;
    }
    session = call;
    delete $('phone-state').dataset.ended;
    const from = call.remote_identity;
    $('phone-peer').textContent = from.display_name || from.uri.user || '';
    call.on('peerconnection', (e) => track(e.peerconnection));
    call.on('confirmed', () => {
      show('talking');
      mediaTimer = setInterval(media, 1000);
    });
    // How the last call ended: who, and JsSIP's cause ("remote:Terminated" is the
    // other side's BYE, as Asterisk's after a transfer; "system:..." a failure).
    const ended = (e) => {
      $('phone-state').dataset.ended = `${e.originator}:${e.cause}`;
      idle();
    };
    call.on('ended', ended);
    call.on('failed', ended);
    show('ringing');
    if ($('phone-auto').checked) answer();
  }

  function start(config) {
    if (!config.enabled) { show('unavailable', 'No browser phone for this agent.'); return; }
    if (typeof JsSIP === 'undefined') {
      show('unavailable', 'The SIP library is not installed on the server.');
      return;
    }
    socket = new JsSIP.WebSocketInterface(config.ws_url);
    ua = new JsSIP.UA({
      sockets: [socket],
      uri: config.uri,
      authorization_user: config.username,
      realm: config.realm,
      ha1: config.ha1,
      display_name: config.display_name,
      register: true,
      session_timers: false,
      user_agent: 'callcenter desktop phone',
    });
    ua.on('connecting', () => show('connecting'));
    ua.on('disconnected', () => { registered = false; if (!session) show('disconnected'); });
    ua.on('registered', () => { registered = true; if (!session) show('registered'); });
    ua.on('unregistered', () => { registered = false; if (!session) show('unregistered'); });
    ua.on('registrationFailed', (e) => {
      registered = false;
      if (!session) show('failed', `Registration failed: ${e.cause || 'unknown'}`);
    });
    ua.on('newRTCSession', incoming);
    ua.start();
  }

  $('phone-auto').checked = localStorage.getItem(AUTO_KEY) === '1';
  $('phone-auto').addEventListener('change', (e) => {
    localStorage.setItem(AUTO_KEY, e.target.checked ? '1' : '0');
  });
  $('phone-answer').addEventListener('click', answer);
  $('phone-hangup').addEventListener('click', () => { if (session) session.terminate(); });
  $('phone-mute').addEventListener('click', () => {
    if (!session) return;
    const muted = session.isMuted().audio;
    if (muted) session.unmute({ audio: true }); else session.mute({ audio: true });
    $('phone-mute').setAttribute('aria-pressed', String(!muted));
    $('phone-mute').textContent = muted ? 'Mute' : 'Unmute';
  });
  // Leaving the desktop takes the phone out of routing at once: the un-REGISTER cannot
  // finish (Asterisk challenges it, and the page is gone), so the socket is closed too,
  // and Asterisk drops the contact with its WebSocket. A page kept in the browser's
  // back/forward cache starts afresh when shown again.
  window.addEventListener('pagehide', () => {
    if (ua) ua.stop();
    if (socket) socket.disconnect();
  });
  window.addEventListener('pageshow', (event) => { if (event.persisted) window.location.reload(); });

  fetch('/api/desktop/phone', { credentials: 'same-origin', cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then(start)
    .catch((err) => show('unavailable', `The phone could not start: ${err.message}`));
})();
