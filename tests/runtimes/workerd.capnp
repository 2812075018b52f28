# workerd configuration of the runtime test: the bundled worker with the codec's `.wasm` as a
# separate Wasm module (what Wrangler uploads), Cloudflare's default of no WebAssembly compiled
# from bytes, and outbound fetch allowed to the loopback, where the test serves the fixtures.
# `tests/edge_workerd_test.ts` copies it next to `worker.js` and `lazyscribe_codec.wasm` and
# runs `workerd serve workerd.capnp --socket-addr http=127.0.0.1:<port>`.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "lazyscribe_codec.wasm", wasm = embed "lazyscribe_codec.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  compatibilityFlags = ["nodejs_compat"],
  globalOutbound = "loopback",
);
