// A small graphql-transport-ws client for the demo pages (development only).
//
// Authenticates in connection_init, answers pings, and on a dropped connection
// reconnects with backoff and subscribes again: the first message of a profile
// subscription is the current state, so the page is whole again at once.

export function demoKey() {
  // The key comes in the URL once; keep it for this tab and take it out of the address bar.
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get("key");
  if (fromUrl) {
    sessionStorage.setItem("cdp-demo-key", fromUrl);
    params.delete("key");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
  }
  return sessionStorage.getItem("cdp-demo-key");
}

export function connect({ key, onStatus = () => {} }) {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
  const active = new Map(); // id -> {payload, sink}
  let socket = null;
  let ready = false;
  let retry = 0;
  let nextId = 1;
  let closed = false;

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function open() {
    socket = new WebSocket(url, "graphql-transport-ws");
    ready = false;
    onStatus("connecting");
    socket.onopen = () => send({ type: "connection_init", payload: { Authorization: "Bearer " + key } });
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      switch (message.type) {
        case "connection_ack":
          ready = true;
          retry = 0;
          onStatus("live");
          for (const [id, op] of active) send({ id, type: "subscribe", payload: op.payload });
          break;
        case "ping":
          send({ type: "pong" });
          break;
        case "next":
          active.get(message.id)?.sink.next(message.payload);
          break;
        case "error":
          active.get(message.id)?.sink.error(message.payload);
          active.delete(message.id);
          break;
        case "complete":
          active.get(message.id)?.sink.complete?.();
          active.delete(message.id);
          break;
      }
    };
    socket.onclose = (event) => {
      ready = false;
      if (closed) return;
      if (event.code === 4403) {
        onStatus("refused: check the key");
        return;
      }
      const delay = Math.min(8000, 250 * 2 ** retry++) * (0.5 + Math.random() / 2);
      onStatus("reconnecting");
      setTimeout(open, delay);
    };
  }

  open();
  return {
    subscribe(query, variables, sink) {
      const id = String(nextId++);
      const payload = { query, variables };
      active.set(id, { payload, sink });
      if (ready) send({ id, type: "subscribe", payload });
      return () => {
        if (active.delete(id)) send({ id, type: "complete" });
      };
    },
    close() {
      closed = true;
      socket?.close(1000);
    },
  };
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}
