/**
 * Decodes a pickle file and prints what it holds, the way Python would name it.
 *
 * Usage: `deno run --allow-read demo.ts [file.pkl]` (default: the bundled
 * `tests/fixtures/demo.pkl`, an experiment's results pickled by CPython 3.11 with numpy 2).
 *
 * Nothing in the pickle is executed: classes the decoder does not know are printed as the inert
 * records it makes of them. The tree is the command line's `cat` printer: shared objects are
 * printed once, marked `&n`, and referred to as `*n` after that, so cycles and shared-reference
 * bombs print in linear time.
 *
 * @module
 */

import { decode } from "./codec/mod.ts";
import { valueTree } from "./src/value_tree.ts";

const path = Deno.args[0] ??
  new URL("./tests/fixtures/demo.pkl", import.meta.url).pathname;
const data = await Deno.readFile(path);
const start = performance.now();
// Exact, so that floats and ints print as Python has them (`1.0` stays a float).
const value = decode(data, { exact: true });
const cold = performance.now() - start;
decode(data, { exact: true });
const warm = performance.now() - start - cold;
const protocol = data[0] === 0x80 ? data[1] : "0 or 1";
console.log(
  `${path}: ${data.length} bytes, pickle protocol ${protocol}, decoded in ${
    cold.toFixed(2)
  } ms with the codec's start-up, ${
    warm.toFixed(2)
  } ms after; nothing executed\n`,
);
console.log(valueTree(value));
