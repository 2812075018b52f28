// The Workers script: Wrangler (and this test's esbuild) leaves the `.wasm` import to the
// runtime, which gives a compiled WebAssembly.Module.
import wasm from "./lazyscribe_codec.wasm";
import { makeWorker } from "./worker.ts";

export default makeWorker(wasm);
