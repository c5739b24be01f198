// The page's side of PROTOCOL.md: one WebSocket per tab, JSON text frames, replies matched by id.

/** Decode a quantised grid {lo, hi, q} into a Float32Array of n*n values (PROTOCOL.md: b -> lo + (hi-lo)*b/255). */
export function decodeGrid(grid) {
  const bytes = decodeBase64(grid.q);
  const values = new Float32Array(bytes.length);
  const scale = (grid.hi - grid.lo) / 255;
  for (let i = 0; i < bytes.length; i++) values[i] = grid.lo + scale * bytes[i];
  return values;
}

/** The raw bytes of a quantised grid (class maps use them directly as class indices). */
export function decodeBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const REPLY_TYPES = new Set(["data_csv", "script", "model", "backprop"]);

/**
 * A connection to the Playground server. Handlers are registered per message type with `on`;
 * `request` sends a message with a fresh id and resolves with the reply carrying that id
 * (or rejects with the server's error message).
 */
export class Connection {
  constructor(url) {
    this.url = url;
    this.handlers = new Map();
    this.pending = new Map();
    this.nextId = 1;
    this.socket = null;
    this.retryDelay = 500;
    this.closedByPage = false;
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
    return this;
  }

  emit(type, message) {
    for (const handler of this.handlers.get(type) || []) handler(message);
  }

  open() {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.retryDelay = 500;
      this.emit("open", {});
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", () => {
      this.emit("close", {});
      for (const { reject } of this.pending.values()) reject(new Error("connection closed"));
      this.pending.clear();
      if (this.closedByPage) return;
      // The server restarted or the network hiccuped: come back with a fresh session.
      setTimeout(() => this.open(), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 8000);
    });
  }

  close() {
    this.closedByPage = true;
    if (this.socket) this.socket.close();
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch (err) {
      this.emit("error", { message: `the server sent a message that is not JSON: ${err.message}`, field: null });
      return;
    }
    const waiting = message.id != null ? this.pending.get(message.id) : undefined;
    if (waiting && (REPLY_TYPES.has(message.type) || message.type === "error")) {
      this.pending.delete(message.id);
      if (message.type === "error") waiting.reject(Object.assign(new Error(message.message), { field: message.field }));
      else waiting.resolve(message);
      // Errors are still shown to the user by the generic handler.
      if (message.type !== "error") return;
    }
    this.emit(message.type, message);
  }

  /** Send a message; returns its id. */
  send(message) {
    if (!this.isOpen) return null;
    const id = message.type === "ack" ? undefined : this.nextId++;
    const payload = id === undefined ? message : { ...message, id };
    this.socket.send(JSON.stringify(payload));
    return id ?? null;
  }

  /** Send a message and wait for its reply (data_csv, script, model, backprop) or its error. */
  request(message, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      if (!this.isOpen) {
        reject(new Error("not connected to the server"));
        return;
      }
      const id = this.send(message);
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`no reply to ${message.type} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (reply) => { clearTimeout(timer); resolve(reply); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      });
    });
  }
}

/** The WebSocket address of the server that served this page. */
export function socketUrl(location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}
