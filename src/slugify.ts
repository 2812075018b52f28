/**
 * `slugify()`: python-slugify's `slugify(text)` with its default options, which lazyscribe uses
 * for file names, experiment slugs and test folders.
 *
 * @module
 */

import { HTML_ENTITIES } from "./_html_entities.ts";

const QUOTES = /'+/g;
const NAMED_ENTITY = /&([A-Za-z0-9]+);/g;
// Python's `\d` in a str pattern matches every Unicode decimal digit, and `int()` accepts them.
const DECIMAL_ENTITY = /&#(\p{Nd}+);/gu;
const HEX_ENTITY = /&#x([\p{Nd}a-fA-F]+);/gu;
const DIGIT_COMMA = /(?<=\p{Nd}),(?=\p{Nd})/gu;
const DISALLOWED = /[^-a-zA-Z0-9]+/g;
const DASHES = /-{2,}/g;
const EDGE_DASHES = /^-+|-+$/g;
const NON_ASCII = /[^\p{ASCII}]/u;
const COMBINING_MARK = /\p{Mn}/gu;
const HIGHEST_CODE_POINT = 0x10ffff;

/**
 * What text_unidecode (python-slugify's transliteration back end) makes of the Latin-1 and Latin
 * Extended-A characters that NFKD does not decompose into ASCII, when the result matters to a
 * slug: letters, or an apostrophe (deleted by slugify rather than turned into a separator).
 */
const TRANSLITERATIONS: Readonly<Record<string, string>> = {
  "\u00a2": "C/",
  "\u00a3": "PS",
  "\u00a4": "$?",
  "\u00a5": "Y=",
  "\u00a7": "SS",
  "\u00a9": "(c)",
  "\u00ad": "",
  "\u00ae": "(r)",
  "\u00b0": "deg",
  "\u00b6": "P",
  "\u00c6": "AE",
  "\u00d0": "D",
  "\u00d7": "x",
  "\u00d8": "O",
  "\u00de": "Th",
  "\u00df": "ss",
  "\u00e6": "ae",
  "\u00f0": "d",
  "\u00f8": "o",
  "\u00fe": "th",
  "\u0110": "D",
  "\u0111": "d",
  "\u0126": "H",
  "\u0127": "h",
  "\u0131": "i",
  "\u0138": "k",
  "\u0141": "L",
  "\u0142": "l",
  "\u014a": "ng",
  "\u014b": "NG",
  "\u0152": "OE",
  "\u0153": "oe",
  "\u0166": "T",
  "\u0167": "t",
  "\u02bc": "'",
  "\u03bc": "m",
  "\u2018": "'",
  "\u2019": "'",
  "\u201a": "'",
  "\u201b": "'",
  "\u2032": "'",
};

/**
 * Makes a slug the way python-slugify's `slugify(text)` does with its default options (the
 * "legacy" pipeline that lazyscribe calls): runs of `'` become `-`; the text is NFKD-normalized
 * and transliterated to ASCII; HTML entities (`&amp;`, `&eacute;`, `&#39;`, `&#x17D;`) are
 * decoded; the text is NFKD-normalized again and lowercased; remaining `'` are deleted, as are
 * commas between digits; every run of characters other than `-`, ASCII letters and digits
 * becomes one `-`; repeated dashes collapse and dashes at either end are removed.
 *
 * For ASCII input the result is identical to python-slugify (tested against it). Non-ASCII
 * input goes through python-slugify's transliteration back end (text_unidecode or Unidecode),
 * which this port approximates: NFKD, combining marks removed, and a table for the Latin-1 and
 * Latin Extended-A characters that NFKD leaves alone (`ß` → `ss`, `ø` → `o`, `Ł` → `L`, `’` →
 * `'`). So accented Latin text slugs exactly as in Python, while other scripts (Greek,
 * Cyrillic, CJK) are not transliterated and act as separators: `"Компьютер"` gives `""` here
 * but `"kompiuter"` in Python. lazyscribe stores `fname` and `slug` in its JSON files, so
 * readers never need to recompute them; only new names built here depend on this.
 *
 * @example Usage
 * ```ts
 * import { slugify } from "./slugify.ts";
 * console.log(slugify("My experiment")); // "my-experiment"
 * console.log(slugify("R&amp;D model")); // "r-d-model"
 * console.log(slugify("1,000 rows")); // "1000-rows"
 * ```
 *
 * @param text The text to slugify.
 * @returns The slug: lowercase ASCII letters, digits and single inner dashes.
 */
export function slugify(text: string): string {
  text = text.replace(QUOTES, "-").normalize("NFKD");
  if (NON_ASCII.test(text)) text = transliterate(text);
  text = decodeEntities(text).normalize("NFKD").toLowerCase();
  return text
    .replace(QUOTES, "")
    .replace(DIGIT_COMMA, "")
    .replace(DISALLOWED, "-")
    .replace(DASHES, "-")
    .replace(EDGE_DASHES, "");
}

function transliterate(text: string): string {
  let out = "";
  for (const char of text.replace(COMBINING_MARK, "")) {
    out += TRANSLITERATIONS[char] ?? char;
  }
  return out;
}

function decodeEntities(text: string): string {
  text = text.replace(
    NAMED_ENTITY,
    (match, name: string) => {
      const codePoint = Object.hasOwn(HTML_ENTITIES, name)
        ? HTML_ENTITIES[name]
        : undefined;
      return codePoint === undefined ? match : String.fromCodePoint(codePoint);
    },
  );
  text = replaceNumericEntities(text, DECIMAL_ENTITY, 10);
  return replaceNumericEntities(text, HEX_ENTITY, 16);
}

/**
 * python-slugify substitutes every numeric reference of one kind or, when any of them is out of
 * Unicode's range (Python's `chr()` raises), none of that kind.
 */
function replaceNumericEntities(
  text: string,
  pattern: RegExp,
  radix: number,
): string {
  let valid = true;
  const replaced = text.replace(pattern, (_match, digits: string) => {
    const codePoint = parseDigits(digits, radix);
    if (codePoint > HIGHEST_CODE_POINT) {
      valid = false;
      return "";
    }
    return String.fromCodePoint(codePoint);
  });
  return valid ? replaced : text;
}

/** Parses digits as Python's `int(text, radix)` does, Unicode decimal digits included. */
function parseDigits(digits: string, radix: number): number {
  let value = 0;
  for (const char of digits) {
    value = value * radix + digitValue(char);
    if (value > HIGHEST_CODE_POINT) return Infinity;
  }
  return value;
}

function digitValue(char: string): number {
  const code = char.codePointAt(0)!;
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  // Unicode encodes each script's decimal digits as a contiguous run 0–9, and adjacent runs
  // (the mathematical digits) start on a multiple of ten from the first run's start.
  let start = code;
  while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  return (code - start) % 10;
}
