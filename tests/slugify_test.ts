import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- a dev-only tool; deno.json has no import map yet
import fc from "npm:fast-check@3";
import { slugify } from "../src/slugify.ts";
import { pythonJson } from "./_python.ts";

/** Asks the reference python-slugify (lazyscribe's dependency) for the slugs of many texts. */
function pythonSlugs(texts: string[]): Promise<string[]> {
  return pythonJson<string[]>(
    "import json, sys\nfrom slugify import slugify\n" +
      "print(json.dumps([slugify(t) for t in json.load(sys.stdin)]))",
    [],
    { stdin: new TextEncoder().encode(JSON.stringify(texts)) },
  );
}

Deno.test("slugify() matches python-slugify's own test vectors for default options", () => {
  // From un33k/python-slugify test.py (the cases that use the default options).
  const vectors: [string, string][] = [
    ["This is a test ---", "this-is-a-test"],
    ["___This is a test ---", "this-is-a-test"],
    ["___This is a test___", "this-is-a-test"],
    ["This -- is a ## test ---", "this-is-a-test"],
    ["C'est déjà l'été.", "c-est-deja-l-ete"],
    ["Nín hǎo. Wǒ shì zhōng guó rén", "nin-hao-wo-shi-zhong-guo-ren"],
    ["jaja---lol-méméméoo--a", "jaja-lol-mememeoo-a"],
    ["foo &amp; bar", "foo-bar"],
    ["&#381;", "z"],
    ["&#x17D;", "z"],
    ["10 amazing secrets", "10-amazing-secrets"],
    ["buildings with 1000 windows", "buildings-with-1000-windows"],
    ["recipe number 3", "recipe-number-3"],
    ["404", "404"],
    ["1,000 reasons you are #1", "1000-reasons-you-are-1"],
  ];
  for (const [text, slug] of vectors) assert.equal(slugify(text), slug, text);
});

Deno.test("slugify() matches the lazyscribe reference table", () => {
  const vectors: [string, string][] = [
    ["My experiment", "my-experiment"],
    ["Bob's model", "bob-s-model"],
    ["features v1.2", "features-v1-2"],
    ["a_b  c", "a-b-c"],
    ["1,000 rows", "1000-rows"],
    ["--x--", "x"],
    ["R&amp;D model", "r-d-model"],
    ["model&#39;s", "models"],
    ["caf&eacute; stats", "cafe-stats"],
  ];
  for (const [text, slug] of vectors) assert.equal(slugify(text), slug, text);
});

Deno.test("slugify() does not transliterate non-Latin scripts (documented difference)", () => {
  assert.equal(slugify("Компьютер"), "");
  assert.equal(slugify("model 影師嗎 v2"), "model-v2");
});

Deno.test("slugify() equals python-slugify on generated ASCII text", async () => {
  const pieces = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.integer({ min: 0, max: 0x7f }).map((code) =>
        String.fromCharCode(code)
      ),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        "&amp;",
        "&eacute;",
        "&AElig;",
        "&szlig;",
        "&copy;",
        "&nbsp;",
        "&bogus;",
        "&#39;",
        "&#65;",
        "&#x41;",
        "&#X41;",
        "&#x17d;",
        "&#1114111;",
        "&#1114112;",
        "&#xd800;",
        "&#1633;",
        "&#x&#1633;;",
        "&amp;amp;",
        "'",
        "''",
        ",",
        "1,2",
        "-",
        "_",
        " ",
        "&",
        "#",
        ";",
      ),
    },
  );
  const texts = fc.sample(
    fc.array(pieces, { maxLength: 12 }).map((parts) => parts.join("")),
    {
      numRuns: 4000,
      seed: 20251126,
    },
  );
  const expected = await pythonSlugs(texts);
  texts.forEach((text, i) =>
    assert.equal(slugify(text), expected[i], JSON.stringify(text))
  );
});

Deno.test("slugify() equals python-slugify for Latin-1 and Latin Extended-A letters", async () => {
  const texts: string[] = [];
  for (let code = 0xa0; code <= 0x17f; code++) {
    texts.push(
      `a${String.fromCodePoint(code)}b 2${String.fromCodePoint(code)}3`,
    );
  }
  texts.push("Bob’s model", "ﬁnal ½ Straße", "Ørsted Łódź");
  const expected = await pythonSlugs(texts);
  texts.forEach((text, i) =>
    assert.equal(slugify(text), expected[i], JSON.stringify(text))
  );
});
