/**
 * Hostile pickles: resource attacks, each decoded in a worker under a deadline with the default
 * limits, timed, and reported in a table; the shared-reference DAG also through the CLI's
 * `cat --json` and `cat --tree`; and pickles that would run `os.system`, `builtins.eval`,
 * `builtins.exec` or `subprocess.Popen` in CPython (checked: they do) come back as inert records
 * and run nothing.
 */

import assert from "node:assert/strict";
import { decode } from "../codec/mod.ts";
import { UnpicklingError } from "../codec/errors.ts";
import { PyGlobal, PyObject } from "../codec/types.ts";
import { Repository } from "../src/repository.ts";
import { decodeApart } from "./_decode_apart.ts";
import { runPython } from "./_python.ts";

/** Joins text (as latin1 bytes) and byte arrays into one pickle. */
function bytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((part) =>
    typeof part === "string"
      ? Uint8Array.from(part, (c) => c.charCodeAt(0))
      : Uint8Array.from(part)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

const le32 = (
  n: number,
) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
const le64 = (
  n: number,
) => [...le32(n % 2 ** 32), ...le32(Math.floor(n / 2 ** 32))];

/** L0 = [], Li = [L(i-1), L(i-1)] through the memo: 2^levels leaves when expanded. */
function memoDag(levels: number): Uint8Array {
  const parts: (string | number[])[] = ["\x80\x04", "]", "\x94"];
  for (let i = 1; i <= levels; i++) {
    parts.push("]", "\x94", "(", "j", le32(i - 1), "j", le32(i - 1), "e");
  }
  return bytes(...parts, ".");
}

/** The same DAG through DUP: Li = [L(i-1), L(i-1)] with no memo at all. */
function dupDag(levels: number): Uint8Array {
  const parts: string[] = ["\x80\x02", "]"];
  for (let i = 1; i <= levels; i++) parts.push("2", "\x86"); // DUP, TUPLE2
  return bytes(...parts, ".");
}

/**
 * The bound on every attack: a decode must end (value or error) within it. Linear decodes of
 * these sizes take milliseconds; the bound leaves room for a loaded 2-core CI machine while
 * staying far below the minutes that quadratic or exponential behaviour costs.
 */
const BOUND_MS = 2_000;
const MiB = 1 << 20;
/**
 * Heap a decode may hold when it ends, per input byte, plus a constant: whatever a pickle
 * claims, memory follows what it really holds. The worst case is a flood of empty containers
 * (`}` is one byte, a JS `Map` some 100): about 40 bytes of heap per input byte.
 */
const HEAP_PER_BYTE = 64;
const HEAP_BOUND_MIB = 16;

interface Attack {
  name: string;
  data: Uint8Array;
  /** The error message expected, or `"value"` with the expected summary. */
  expect: RegExp | { value: string };
}

const long4 = new Uint8Array(MiB).fill(0x11);
long4[MiB - 1] = 0x01;

const ATTACKS: Attack[] = [
  {
    name: "sparse memo: LONG_BINPUT 2**30, LONG_BINGET 2**30",
    data: bytes("\x80\x02N", "r", le32(2 ** 30), "0", "j", le32(2 ** 30), "."),
    expect: { value: "null" },
  },
  {
    name: "sparse memo: 100k keys spread over 2**32",
    data: bytes(
      "\x80\x02N",
      ...Array.from(
        { length: 100_000 },
        (_, i) => [0x72, ...le32((i * 42_949) >>> 0)],
      ),
      ".",
    ),
    expect: { value: "null" },
  },
  {
    name: "memo DAG of 40 levels (2**40 leaves expanded)",
    data: memoDag(40),
    expect: /expanded|nodes/i,
  },
  {
    name: "DUP DAG of 60 levels (2**60 leaves expanded)",
    data: dupDag(60),
    expect: /expanded|nodes/i,
  },
  {
    name: "1e6 nested lists",
    data: bytes("\x80\x02", "]".repeat(1e6), "a".repeat(1e6 - 1), "."),
    expect: /depth|nest/i,
  },
  {
    name: "1e6 nested tuples through MARK",
    data: bytes("(".repeat(1e6), "t".repeat(1e6), "."),
    expect: /depth|nest/i,
  },
  {
    name: "1e6 nested dicts through SETITEM",
    data: bytes(
      "\x80\x02",
      "}K\x01".repeat(1e6),
      "}",
      "s".repeat(1e6),
      ".",
    ),
    expect: /depth|nest/i,
  },
  {
    name: "BINBYTES8 claiming 1 TiB",
    data: bytes("\x80\x04\x8e", le64(2 ** 40), "0123456789."),
    expect: /truncated|beyond|exceeds|end of|length/i,
  },
  {
    name: "BINUNICODE8 claiming 2**62 bytes",
    data: bytes("\x80\x04\x8d", le64(2 ** 62), "abc."),
    expect: /truncated|beyond|exceeds|end of|length/i,
  },
  {
    name: "BYTEARRAY8 claiming 1 TiB",
    data: bytes("\x80\x05\x96", le64(2 ** 40), "abc."),
    expect: /truncated|beyond|exceeds|end of|length/i,
  },
  {
    name: "BINUNICODE claiming 4 GiB",
    data: bytes("X", [255, 255, 255, 255], "ab."),
    expect: /truncated|beyond|exceeds|end of|length/i,
  },
  {
    name: "LONG4 claiming 2 GiB",
    data: bytes("\x80\x02\x8b", [255, 255, 255, 127], "ab."),
    expect: /truncated|beyond|exceeds|end of|length/i,
  },
  {
    name: "BINSTRING claiming 2 GiB",
    data: bytes("T", [255, 255, 255, 127], "ab."),
    expect: /truncated|beyond|exceeds|end of|length/i,
  },
  {
    name: "a 1 MiB LONG4",
    data: bytes("\x80\x02\x8b", le32(MiB), long4, "."),
    expect: { value: `int of ${2 * MiB - 1} hex digits` },
  },
  {
    name: "a 100k-digit text LONG",
    data: bytes("L1", "0".repeat(99_999), "L\n."),
    expect: /digits|limit/i,
  },
  {
    name: "a 100k-digit text INT",
    data: bytes("I1", "0".repeat(99_999), "\n."),
    expect: /digits|limit/i,
  },
  {
    name: "mark bomb: 1e6 MARKs, then STOP",
    data: bytes("N", "(".repeat(1e6), "."),
    expect: /mark|stack|depth/i,
  },
  {
    // As in CPython, marks left below the result do not stop STOP: the value is `()`.
    name: "mark bomb: 1e6 MARKs, then one TUPLE",
    data: bytes("(".repeat(1e6), "t."),
    expect: { value: "list of 0" },
  },
  {
    name: "mark bomb: 1e6 x (MARK NONE POP_MARK)",
    data: bytes("(N1".repeat(1e6), "N."),
    expect: { value: "null" },
  },
  {
    name: "FRAME claiming 1 TiB",
    data: bytes("\x80\x04\x95", le64(2 ** 40), "N."),
    expect: /frame|truncated|beyond|exceeds|end of/i,
  },
  {
    name: "FRAME claiming 100 bytes with 2 left",
    data: bytes("\x80\x04\x95", le64(100), "N."),
    expect: /frame|truncated|beyond|exceeds|end of/i,
  },
  {
    name: "1e5 FRAMEs claiming 0 bytes",
    data: bytes(
      "\x80\x04",
      ...Array.from({ length: 1e5 }, () => [0x95, ...le64(0)]),
      "N.",
    ),
    expect: { value: "null" },
  },
];

Deno.test("hostile pickles: every resource attack ends fast within the default limits", async () => {
  const rows: string[][] = [];
  const wrong: string[] = [];
  for (const attack of ATTACKS) {
    const report = await decodeApart(attack.data, 30_000);
    const shown = report.outcome === "value"
      ? `value: ${report.facts?.summary}`
      : report.error;
    rows.push([
      attack.name,
      String(attack.data.length),
      report.outcome,
      report.ms.toFixed(1),
      report.heapMiB.toFixed(1),
      shown.length > 70 ? shown.slice(0, 67) + "..." : shown,
    ]);
    if (attack.expect instanceof RegExp) {
      if (
        report.outcome !== "rejected" ||
        !attack.expect.test(report.error)
      ) {
        wrong.push(
          `${attack.name}: ${report.outcome} ${shown}, expected ${attack.expect}`,
        );
      }
    } else if (
      report.outcome !== "value" ||
      report.facts?.summary !== attack.expect.value
    ) {
      wrong.push(
        `${attack.name}: ${report.outcome} ${shown}, expected ${attack.expect.value}`,
      );
    }
    if (report.ms > BOUND_MS) {
      wrong.push(`${attack.name}: ${report.ms.toFixed(0)} ms`);
    }
    if (
      report.heapMiB > HEAP_BOUND_MIB + HEAP_PER_BYTE * attack.data.length / MiB
    ) {
      wrong.push(
        `${attack.name}: ${report.heapMiB.toFixed(0)} MiB of heap kept`,
      );
    }
  }
  printTable([
    "attack",
    "bytes",
    "outcome",
    "ms",
    "heap MiB",
    "value or message",
  ], rows);
  assert.deepEqual(wrong, []);
});

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length))
  );
  const line = (cells: string[]) =>
    "| " + cells.map((cell, column) =>
      cell.padEnd(widths[column])
    ).join(" | ") + " |";
  console.log(
    [
      line(header),
      line(widths.map((width) => "-".repeat(width))),
      ...rows.map(line),
    ].join("\n"),
  );
}

Deno.test("hostile pickles: a DAG and deep nesting that decode stay bounded through the CLI's --json and --tree", async () => {
  const folder = await Deno.makeTempDir({ prefix: "lsa_cli_" });
  try {
    // 2**24 leaves when expanded: under the default node limit, so it decodes (sharing kept),
    // and only the printers could expand it. And lists nested 9,999 deep: just under the
    // default depth limit, so only a recursive printer could overflow on it.
    const artifacts = {
      dag: memoDag(24),
      deep: bytes("\x80\x02", "]".repeat(9_999), "a".repeat(9_998), "."),
    };
    const repository = await Repository.open(`${folder}/repository.json`);
    for (const [name, data] of Object.entries(artifacts)) {
      assert.ok(Array.isArray(decode(data)));
      await Deno.mkdir(`${folder}/${name}`);
      await Deno.writeFile(`${folder}/${name}/${name}.pkl`, data);
      repository.logArtifact({
        name,
        value: null,
        handler: "pickle",
        fname: `${name}.pkl`,
      });
    }
    // Only the index is written: the files above are the artifacts.
    await Deno.writeFile(`${folder}/repository.json`, repository.encode());
    const rows: string[][] = [];
    for (const name of Object.keys(artifacts)) {
      for (const format of ["--json", "--tree"]) {
        const start = performance.now();
        const result = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-read",
            new URL("../cli.ts", import.meta.url).pathname,
            "cat",
            `${folder}/repository.json`,
            name,
            format,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const ms = performance.now() - start;
        const out = new TextDecoder().decode(result.stdout);
        const err = new TextDecoder().decode(result.stderr).trim();
        rows.push([
          `cat ${name} ${format}`,
          String(result.code),
          String(out.length),
          ms.toFixed(0),
          (err || out.split("\n")[0]).slice(0, 60),
        ]);
        assert.ok(ms < 20_000, `cat ${name} ${format} took ${ms} ms`);
        // A bounded rendering (shared references named once, long output cut) or a clear
        // refusal; never a stack overflow.
        assert.ok(
          out.length < 4 << 20,
          `cat ${name} ${format} printed ${out.length}`,
        );
        assert.doesNotMatch(err, /RangeError|call stack|panic/i);
        if (result.code !== 0) assert.match(err, /limit|long|max/i);
      }
    }
    printTable(["command", "exit", "stdout chars", "ms", "first line"], rows);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

/** A protocol 0 string literal. */
const text = (value: string) =>
  `S${JSON.stringify(value).replaceAll('"', "'")}\n`;

Deno.test("hostile pickles: globals are never evaluated; code-running pickles are inert records", async () => {
  const folder = await Deno.makeTempDir({ prefix: "lsa_rce_" });
  try {
    const marker = (name: string) => `${folder}/${name}`;
    const touch = (name: string) => `touch ${marker(name)}`;
    // Each payload, loaded by CPython, would create the file named by `file` (or, for NEWOBJ,
    // which calls only `__new__`, would build a Popen without running it).
    const payloads: { name: string; file: string | null; data: Uint8Array }[] =
      [
        {
          name: "REDUCE os.system",
          file: "reduce_system",
          data: bytes("cos\nsystem\n(", text(touch("reduce_system")), "tR."),
        },
        {
          name: "REDUCE posix.system",
          file: "reduce_posix",
          data: bytes("cposix\nsystem\n(", text(touch("reduce_posix")), "tR."),
        },
        {
          name: "REDUCE builtins.eval",
          file: "reduce_eval",
          data: bytes(
            "cbuiltins\neval\n(",
            text(`__import__('os').system('${touch("reduce_eval")}')`),
            "tR.",
          ),
        },
        {
          name: "REDUCE builtins.exec",
          file: "reduce_exec",
          data: bytes(
            "cbuiltins\nexec\n(",
            text(`open('${marker("reduce_exec")}', 'w').close()`),
            "tR.",
          ),
        },
        {
          name: "REDUCE subprocess.Popen",
          file: "reduce_popen",
          data: bytes(
            "csubprocess\nPopen\n((",
            text("touch"),
            text(marker("reduce_popen")),
            "ltR.",
          ),
        },
        {
          name: "INST os.system",
          file: "inst_system",
          data: bytes("(", text(touch("inst_system")), "ios\nsystem\n."),
        },
        {
          name: "OBJ os.system",
          file: "obj_system",
          data: bytes("(cos\nsystem\n", text(touch("obj_system")), "o."),
        },
        {
          name: "NEWOBJ subprocess.Popen",
          file: null,
          data: bytes(
            "\x80\x02csubprocess\nPopen\n(",
            text("touch"),
            text(marker("newobj_popen")),
            "l\x85\x81.",
          ),
        },
        {
          name: "BUILD with __setstate__ = os.system",
          file: "build_setstate",
          data: bytes(
            "\x80\x02cargparse\nNamespace\n)\x81}",
            text("__setstate__"),
            "cos\nsystem\nsb",
            text(touch("build_setstate")),
            "b.",
          ),
        },
      ];
    // CPython's own pickle.loads runs them: the payloads are live.
    const source = `
import pickle, sys, time
for hex in sys.argv[1:]:
    try:
        pickle.loads(bytes.fromhex(hex))
    except Exception:
        pass
time.sleep(0.3)
`;
    const live = payloads.map(({ data }) =>
      [...data].map((b) => b.toString(16).padStart(2, "0")).join("")
    );
    await runPython(source, live, { cwd: folder });
    const created = new Set<string>();
    for await (const entry of Deno.readDir(folder)) created.add(entry.name);
    for (const payload of payloads) {
      if (payload.file !== null) {
        assert.ok(
          created.has(payload.file),
          `CPython did not run ${payload.name}`,
        );
      }
    }
    for (const name of created) await Deno.remove(`${folder}/${name}`);

    for (const payload of payloads) {
      let value: unknown;
      try {
        value = decode(payload.data);
      } catch (error) {
        assert.fail(`${payload.name}: ${error}`);
      }
      // An inert record whose callable is the named global, or (INST) its module and name.
      assert.ok(value instanceof PyObject, `${payload.name}: ${value}`);
      const cls = (value as PyObject).cls;
      assert.ok(
        cls instanceof PyGlobal || cls instanceof PyObject,
        payload.name,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after: string[] = [];
    for await (const entry of Deno.readDir(folder)) after.push(entry.name);
    assert.deepEqual(after, [], "decoding ran a payload");
    console.log(
      `${payloads.length} payloads (${
        payloads.filter((payload) => payload.file).length
      } of which CPython's pickle.loads runs: each created its file there) ` +
        `decode to inert PyObject records here, and created nothing`,
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("hostile pickles: a global alone is a PyGlobal record, never a function", () => {
  for (
    const [module, name] of [
      ["os", "system"],
      ["builtins", "eval"],
      ["builtins", "exec"],
      ["subprocess", "Popen"],
    ]
  ) {
    const value = decode(bytes(`c${module}\n${name}\n.`));
    assert.ok(value instanceof PyGlobal);
    assert.equal(typeof value, "object");
    assert.deepEqual([value.module, value.name], [module, name]);
    assert.throws(
      () => decode(bytes(`c${module}\n${name}\n`)),
      UnpicklingError,
    );
  }
});
