/**
 * Python's `difflib.unified_diff` over `str.splitlines()`, as lazyscribe's
 * `Repository.get_version_diff` produces it: the same matching algorithm (`SequenceMatcher`
 * with its "popular element" heuristic), so the same hunks, byte for byte.
 *
 * @module
 */

// Python's str.splitlines() boundaries: \r\n, \n, \r, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029.
// deno-lint-ignore no-control-regex -- the file separators \x1c-\x1e are line breaks to Python
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/;

/**
 * Splits text into lines as Python's `str.splitlines()` does (without the line breaks).
 *
 * @param text The text.
 * @returns The lines; `[]` for empty text.
 */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(LINE_BREAK);
  // A final line break ends the last line rather than starting an empty one.
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

type Opcode = [
  tag: "equal" | "replace" | "delete" | "insert",
  i1: number,
  i2: number,
  j1: number,
  j2: number,
];

/** Python's `SequenceMatcher(None, a, b)` for lists of strings, reduced to what diffs use. */
class SequenceMatcher {
  #a: readonly string[];
  #b: readonly string[];
  #b2j = new Map<string, number[]>();

  constructor(a: readonly string[], b: readonly string[]) {
    this.#a = a;
    this.#b = b;
    b.forEach((line, index) => {
      const indices = this.#b2j.get(line);
      if (indices === undefined) this.#b2j.set(line, [index]);
      else indices.push(index);
    });
    // autojunk: in long sequences, lines more common than 1% are not used as anchors.
    if (b.length >= 200) {
      const limit = Math.floor(b.length / 100) + 1;
      for (const [line, indices] of [...this.#b2j]) {
        if (indices.length > limit) this.#b2j.delete(line);
      }
    }
  }

  #findLongestMatch(
    alo: number,
    ahi: number,
    blo: number,
    bhi: number,
  ): [number, number, number] {
    const a = this.#a;
    const b = this.#b;
    let [besti, bestj, bestsize] = [alo, blo, 0];
    let j2len = new Map<number, number>();
    for (let i = alo; i < ahi; i++) {
      const next = new Map<number, number>();
      for (const j of this.#b2j.get(a[i]) ?? []) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const k = (j2len.get(j - 1) ?? 0) + 1;
        next.set(j, k);
        if (k > bestsize) [besti, bestj, bestsize] = [i - k + 1, j - k + 1, k];
      }
      j2len = next;
    }
    // There is no junk, so only the extension over popular lines applies.
    while (besti > alo && bestj > blo && a[besti - 1] === b[bestj - 1]) {
      [besti, bestj, bestsize] = [besti - 1, bestj - 1, bestsize + 1];
    }
    while (
      besti + bestsize < ahi && bestj + bestsize < bhi &&
      a[besti + bestsize] === b[bestj + bestsize]
    ) {
      bestsize++;
    }
    return [besti, bestj, bestsize];
  }

  #matchingBlocks(): [number, number, number][] {
    const la = this.#a.length;
    const lb = this.#b.length;
    const queue: [number, number, number, number][] = [[0, la, 0, lb]];
    const blocks: [number, number, number][] = [];
    while (queue.length > 0) {
      const [alo, ahi, blo, bhi] = queue.pop()!;
      const match = this.#findLongestMatch(alo, ahi, blo, bhi);
      const [i, j, k] = match;
      if (k > 0) {
        blocks.push(match);
        if (alo < i && blo < j) queue.push([alo, i, blo, j]);
        if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
      }
    }
    blocks.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
    const merged: [number, number, number][] = [];
    let [i1, j1, k1] = [0, 0, 0];
    for (const [i2, j2, k2] of blocks) {
      if (i1 + k1 === i2 && j1 + k1 === j2) {
        k1 += k2;
      } else {
        if (k1 > 0) merged.push([i1, j1, k1]);
        [i1, j1, k1] = [i2, j2, k2];
      }
    }
    if (k1 > 0) merged.push([i1, j1, k1]);
    merged.push([la, lb, 0]);
    return merged;
  }

  #opcodes(): Opcode[] {
    let i = 0;
    let j = 0;
    const out: Opcode[] = [];
    for (const [ai, bj, size] of this.#matchingBlocks()) {
      if (i < ai && j < bj) out.push(["replace", i, ai, j, bj]);
      else if (i < ai) out.push(["delete", i, ai, j, bj]);
      else if (j < bj) out.push(["insert", i, ai, j, bj]);
      [i, j] = [ai + size, bj + size];
      if (size > 0) out.push(["equal", ai, i, bj, j]);
    }
    return out;
  }

  groupedOpcodes(n: number): Opcode[][] {
    const codes = this.#opcodes();
    if (codes.length === 0) codes.push(["equal", 0, 1, 0, 1]);
    const first = codes[0];
    if (first[0] === "equal") {
      codes[0] = [
        "equal",
        Math.max(first[1], first[2] - n),
        first[2],
        Math.max(first[3], first[4] - n),
        first[4],
      ];
    }
    const last = codes[codes.length - 1];
    if (last[0] === "equal") {
      codes[codes.length - 1] = [
        "equal",
        last[1],
        Math.min(last[2], last[1] + n),
        last[3],
        Math.min(last[4], last[3] + n),
      ];
    }
    const groups: Opcode[][] = [];
    let group: Opcode[] = [];
    for (let [tag, i1, i2, j1, j2] of codes) {
      if (tag === "equal" && i2 - i1 > 2 * n) {
        group.push([tag, i1, Math.min(i2, i1 + n), j1, Math.min(j2, j1 + n)]);
        groups.push(group);
        group = [];
        [i1, j1] = [Math.max(i1, i2 - n), Math.max(j1, j2 - n)];
      }
      group.push([tag, i1, i2, j1, j2]);
    }
    if (group.length > 0 && !(group.length === 1 && group[0][0] === "equal")) {
      groups.push(group);
    }
    return groups;
  }
}

function unifiedRange(start: number, stop: number): string {
  const length = stop - start;
  if (length === 1) return String(start + 1);
  return `${length === 0 ? start : start + 1},${length}`;
}

/**
 * The lines of Python's `difflib.unified_diff(a, b)` (no file names, 3 lines of context,
 * `lineterm="\n"`).
 *
 * @param a The old lines.
 * @param b The new lines.
 * @returns The diff's lines: headers end with `"\n"`, content lines do not.
 */
export function unifiedDiff(
  a: readonly string[],
  b: readonly string[],
): string[] {
  const out: string[] = [];
  for (const group of new SequenceMatcher(a, b).groupedOpcodes(3)) {
    if (out.length === 0) out.push("--- \n", "+++ \n");
    const first = group[0];
    const last = group[group.length - 1];
    out.push(
      `@@ -${unifiedRange(first[1], last[2])} +${
        unifiedRange(first[3], last[4])
      } @@\n`,
    );
    for (const [tag, i1, i2, j1, j2] of group) {
      if (tag === "equal") {
        for (const line of a.slice(i1, i2)) out.push(" " + line);
        continue;
      }
      if (tag === "replace" || tag === "delete") {
        for (const line of a.slice(i1, i2)) out.push("-" + line);
      }
      if (tag === "replace" || tag === "insert") {
        for (const line of b.slice(j1, j2)) out.push("+" + line);
      }
    }
  }
  return out;
}
