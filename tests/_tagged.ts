/**
 * Tagged JSON: the common language of the differential tests. `tests/python/symbolic.py`
 * describes what CPython says a pickle holds in this form, {@linkcode toTagged} describes what
 * our decoder returned in the same form, and {@linkcode compareTagged} finds the first place
 * where they differ. Both walks are iterative, so deep or cyclic values cannot overflow the
 * stack.
 *
 * The form: `null`, booleans and strings as JSON; ints as JSON numbers when |x| ≤ 2⁵³ − 1,
 * else `{"$int": "digits"}`; floats as `{"$float": x}` (`"nan"`, `"inf"`, `"-inf"`);
 * `{"$list" | "$tuple" | "$set" | "$frozenset" | "$deque": [...]}`,
 * `{"$dict" | "$ordereddict" | "$defaultdict": [[k, v], ...]}`, `{"$bytes" | "$bytearray": base64}`,
 * `{"$global": [module, name]}`, the records `{"$reduce" | "$newobj" | ...: cls, "args", ...}`,
 * and for the value types `$complex`, `$decimal`, `$uuid`, `$date`, `$time`, `$datetime`,
 * `$timedelta`, `$timezone`, `$array`, `$dtype`, `$ndarray`, `$npscalar`. An object reached
 * more than once carries `"$id": n` where it is first met and is `{"$ref": n}` afterwards.
 *
 * @module
 */

import {
  ByteArray,
  Complex,
  Decimal,
  DefaultDict,
  Deque,
  DType,
  FrozenSet,
  NdArray,
  NumpyScalar,
  OrderedDict,
  PyArray,
  PyDate,
  PyDateTime,
  PyGlobal,
  PyObject,
  PyTime,
  PyTimeDelta,
  PyTimeZone,
  Tuple,
  UUID,
} from "../codec/types.ts";

/** A tagged JSON value. */
export type Tagged =
  | null
  | boolean
  | number
  | string
  | Tagged[]
  | { [key: string]: Tagged };

/** How {@linkcode toTagged} reads numbers. */
export interface TagOptions {
  /**
   * `true` for values decoded with `exact: true`: every `bigint` is a Python int and every
   * `number` a float. `false` for the default mapping: an integral `number` is an int.
   */
  readonly exact: boolean;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function tagInt(value: number | bigint): Tagged {
  const big = typeof value === "bigint" ? value : BigInt(value);
  return big >= -SAFE && big <= SAFE ? Number(big) : { $int: String(big) };
}

function tagFloat(value: number): Tagged {
  if (Number.isNaN(value)) return { $float: "nan" };
  if (value === Infinity) return { $float: "inf" };
  if (value === -Infinity) return { $float: "-inf" };
  return { $float: value };
}

function tagNumber(value: number, options: TagOptions): Tagged {
  if (!options.exact && Number.isSafeInteger(value) && !Object.is(value, -0)) {
    return value;
  }
  return tagFloat(value);
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function halfToNumber(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function tagDType(dtype: DType): Tagged {
  const out: { [key: string]: Tagged } = {
    str: dtype.str,
    byteorder: dtype.byteorder,
    itemsize: dtype.itemsize,
  };
  if ("biufc?".includes(dtype.str[0])) out.name = dtype.name;
  if (dtype.names !== null) out.names = [...dtype.names];
  return out;
}

/** numpy's kind letter of a dtype (`"b"` for bool). */
function kindOf(dtype: DType): string {
  return dtype.str[0] === "?" ? "b" : dtype.str[0];
}

/** The elements of a numeric array or scalar, tagged by the dtype's kind, not the JS type. */
function tagElements(dtype: DType, data: ArrayLike<unknown>): Tagged {
  const kind = kindOf(dtype);
  const out: Tagged[] = [];
  if (kind === "c") {
    for (let i = 0; i < data.length; i += 2) {
      out.push({
        $complex: [
          tagFloat(data[i] as number),
          tagFloat(data[i + 1] as number),
        ],
      });
    }
    return out;
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (kind === "b") out.push(v !== 0);
    else if (kind === "f") {
      out.push(
        tagFloat(
          dtype.itemsize === 2 ? halfToNumber(v as number) : v as number,
        ),
      );
    } else out.push(tagInt(v as number | bigint));
  }
  return out;
}

/** Whether the decoder gives a numeric dtype a typed array (not long double: raw bytes). */
function hasTypedArray(dtype: DType): boolean {
  const sizes: Record<string, number[]> = {
    b: [1],
    i: [1, 2, 4, 8],
    u: [1, 2, 4, 8],
    f: [2, 4, 8],
    c: [8, 16],
  };
  return sizes[kindOf(dtype)]?.includes(dtype.itemsize) ?? false;
}

function tagScalarValue(dtype: DType, value: unknown): Tagged {
  if (value instanceof Uint8Array) return { $bytes: base64(value) };
  if (value instanceof Complex) {
    return { $complex: [tagFloat(value.real), tagFloat(value.imag)] };
  }
  const kind = kindOf(dtype);
  if (kind === "b") return value as boolean;
  if (kind === "f") return tagFloat(value as number);
  return tagInt(value as number | bigint);
}

function tagArrayData(array: PyArray): Tagged {
  if (typeof array.data === "string") return array.data;
  const out: Tagged[] = [];
  const float = array.typecode === "f" || array.typecode === "d";
  for (const v of array.data) {
    out.push(float ? tagFloat(v as number) : tagInt(v as number | bigint));
  }
  return out;
}

/** Whether the value is one JS object whose sharing the tagged form records. */
function hasIdentity(value: unknown): value is object {
  return Array.isArray(value) || value instanceof Map || value instanceof Set ||
    value instanceof Uint8Array || value instanceof PyObject ||
    value instanceof NdArray || value instanceof PyArray;
}

/** The values a value refers to, in the order its tagged form lists them. */
function childrenOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value instanceof Map) {
    const out: unknown[] = [];
    for (const [k, v] of value) out.push(k, v);
    if (value instanceof DefaultDict) out.push(value.defaultFactory);
    return out;
  }
  if (value instanceof Set) return [...value];
  if (value instanceof PyObject) {
    const out: unknown[] = [value.cls, value.args];
    if (value.kind === "newobj_ex") out.push(value.kwargs);
    if (value.state !== undefined) out.push(value.state);
    out.push(...value.listItems);
    for (const [k, v] of value.dictItems) out.push(k, v);
    out.push(...value.setItems);
    return out;
  }
  if (value instanceof PyDateTime || value instanceof PyTime) {
    return [value.tzinfo];
  }
  if (value instanceof NdArray && Array.isArray(value.data)) return value.data;
  return [];
}

type Slot = (tagged: Tagged) => void;

/**
 * Converts a decoded value to tagged JSON, iteratively: shared objects and cycles become
 * `$id`/`$ref`, numbered in the order the output lists them.
 *
 * @param value What `decode()` returned.
 * @param options How numbers were decoded.
 * @returns The tagged JSON.
 * @throws {TypeError} For a value that no decoder result should contain.
 *
 * @example Usage
 * ```ts ignore
 * const shared = [1n];
 * console.log(JSON.stringify(toTagged(Tuple.of(shared, shared, 2.5), { exact: true })));
 * // {"$tuple":[{"$list":[1],"$id":1},{"$ref":1},{"$float":2.5}]}
 * ```
 */
export function toTagged(value: unknown, options: TagOptions): Tagged {
  const counts = new Map<object, number>();
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (hasIdentity(item)) {
      const seen = counts.get(item);
      counts.set(item, (seen ?? 0) + 1);
      if (seen !== undefined) continue;
    }
    for (const child of childrenOf(item)) pending.push(child);
  }

  const ids = new Map<object, number>();
  let result: Tagged = null;
  const work: [unknown, Slot][] = [[value, (t) => (result = t)]];
  const push = (items: readonly [unknown, Slot][]) => {
    for (let i = items.length - 1; i >= 0; i--) work.push(items[i]);
  };
  const list = (values: readonly unknown[]) => {
    const out: Tagged[] = values.map(() => null);
    const slots = values.map((
      v,
      i,
    ): [unknown, Slot] => [v, (t) => (out[i] = t)]);
    return { out, slots };
  };
  const pairs = (map: Map<unknown, unknown>) => {
    const out: Tagged[] = [];
    const slots: [unknown, Slot][] = [];
    for (const [k, v] of map) {
      const pair: Tagged[] = [null, null];
      out.push(pair);
      slots.push([k, (t) => (pair[0] = t)], [v, (t) => (pair[1] = t)]);
    }
    return { out, slots };
  };

  while (work.length > 0) {
    const [item, place] = work.pop()!;
    if (item === null || item === undefined) {
      place(null);
      continue;
    }
    switch (typeof item) {
      case "boolean":
      case "string":
        place(item);
        continue;
      case "number":
        place(tagNumber(item, options));
        continue;
      case "bigint":
        place(options.exact ? tagInt(item) : { $int: String(item) });
        continue;
    }
    let out: { [key: string]: Tagged };
    let slots: [unknown, Slot][] = [];
    if (hasIdentity(item)) {
      const id = ids.get(item);
      if (id !== undefined) {
        place({ $ref: id });
        continue;
      }
    }
    if (Array.isArray(item)) {
      const items = list(item);
      const key = item instanceof Tuple
        ? "$tuple"
        : item instanceof Deque
        ? "$deque"
        : "$list";
      out = { [key]: items.out };
      if (item instanceof Deque) out.maxlen = item.maxlen;
      slots = items.slots;
    } else if (item instanceof Map) {
      const entries = pairs(item);
      const key = item instanceof OrderedDict
        ? "$ordereddict"
        : item instanceof DefaultDict
        ? "$defaultdict"
        : "$dict";
      out = { [key]: entries.out };
      slots = entries.slots;
      if (item instanceof DefaultDict) {
        const dict = out;
        slots.push([item.defaultFactory, (t) => (dict.factory = t)]);
      }
    } else if (item instanceof Set) {
      const items = list([...item]);
      out = { [item instanceof FrozenSet ? "$frozenset" : "$set"]: items.out };
      slots = items.slots;
    } else if (item instanceof Uint8Array) {
      out = {
        [item instanceof ByteArray ? "$bytearray" : "$bytes"]: base64(item),
      };
    } else if (item instanceof PyObject) {
      const record: { [key: string]: Tagged } = {};
      out = record;
      slots.push([item.cls, (t) => (record["$" + item.kind] = t)]);
      slots.push([item.args, (t) => (record.args = t)]);
      if (item.kind === "newobj_ex") {
        slots.push([item.kwargs, (t) => (record.kwargs = t)]);
      }
      if (item.state !== undefined) {
        slots.push([item.state, (t) => (record.state = t)]);
      }
      if (item.listItems.length > 0) {
        const items = list(item.listItems);
        record.listitems = items.out;
        slots.push(...items.slots);
      }
      if (item.dictItems.size > 0) {
        const entries = pairs(item.dictItems);
        record.dictitems = entries.out;
        slots.push(...entries.slots);
      }
      if (item.setItems.length > 0) {
        const items = list(item.setItems);
        record.setitems = items.out;
        slots.push(...items.slots);
      }
    } else if (item instanceof PyGlobal) {
      out = { $global: [item.module, item.name] };
    } else if (item instanceof Complex) {
      out = { $complex: [tagFloat(item.real), tagFloat(item.imag)] };
    } else if (item instanceof Decimal) {
      out = { $decimal: item.value };
    } else if (item instanceof UUID) {
      out = { $uuid: item.toString() };
    } else if (item instanceof PyTimeDelta) {
      out = { $timedelta: [item.days, item.seconds, item.microseconds] };
    } else if (item instanceof PyTimeZone) {
      const offset = item.offset;
      out = {
        $timezone: {
          $timedelta: [offset.days, offset.seconds, offset.microseconds],
        },
        name: item.name,
      };
    } else if (item instanceof PyDate) {
      out = { $date: [item.year, item.month, item.day] };
    } else if (item instanceof PyDateTime || item instanceof PyTime) {
      const value: { [key: string]: Tagged } = item instanceof PyDateTime
        ? {
          $datetime: [
            item.year,
            item.month,
            item.day,
            item.hour,
            item.minute,
            item.second,
            item.microsecond,
          ],
        }
        : { $time: [item.hour, item.minute, item.second, item.microsecond] };
      value.fold = item.fold;
      out = value;
      slots.push([item.tzinfo, (t) => (value.tzinfo = t)]);
    } else if (item instanceof PyArray) {
      out = { $array: item.typecode, data: tagArrayData(item) };
    } else if (item instanceof DType) {
      out = { $dtype: tagDType(item) };
    } else if (item instanceof NdArray) {
      out = {
        $ndarray: tagDType(item.dtype),
        shape: [...item.shape],
        order: item.order,
      };
      if (Array.isArray(item.data)) {
        const items = list(item.data);
        out.data = items.out;
        slots = items.slots;
      } else {
        const kind = kindOf(item.dtype);
        const data = item.data;
        const numeric = hasTypedArray(item.dtype) ||
          ("Mm".includes(kind) && !(data instanceof Uint8Array));
        out.data = numeric ? tagElements(item.dtype, data) : {
          $bytes: base64(
            new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
          ),
        };
      }
    } else if (item instanceof NumpyScalar) {
      out = {
        $npscalar: tagDType(item.dtype),
        value: tagScalarValue(item.dtype, item.value),
      };
    } else {
      throw new TypeError(
        `No tagged form for ${Object.prototype.toString.call(item)}`,
      );
    }
    if (hasIdentity(item) && (counts.get(item) ?? 0) > 1) {
      const id = ids.size + 1;
      ids.set(item, id);
      out.$id = id;
    }
    place(out);
    push(slots);
  }
  return result;
}

/** How {@linkcode compareTagged} matches numbers. */
export interface CompareOptions {
  /**
   * Accept an integral `number` where a float was expected (the default decode mapping turns
   * `2.0` into `2`); ints must still be ints.
   */
  readonly looseFloats?: boolean;
}

function show(value: Tagged | undefined): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 160 ? text.slice(0, 157) + "..." : text;
}

function isObject(value: Tagged): value is { [key: string]: Tagged } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Compares two tagged values, iteratively. `$id` numbers need not be equal, only consistent:
 * the objects shared in one must be shared the same way in the other.
 *
 * @param actual The tagged decoder output.
 * @param expected The tagged expectation.
 * @param options Number matching.
 * @returns `null` when equal, else where and how they first differ.
 *
 * @example Usage
 * ```ts ignore
 * console.log(compareTagged({ $list: [1] }, { $list: [{ $float: 1 }] }));
 * // at $.$list[0]: expected {"$float":1}, got 1
 * console.log(compareTagged(1, { $float: 1 }, { looseFloats: true })); // null
 * ```
 */
export function compareTagged(
  actual: Tagged,
  expected: Tagged,
  options: CompareOptions = {},
): string | null {
  const idMap = new Map<Tagged, Tagged>();
  const reverse = new Map<Tagged, Tagged>();
  const work: [Tagged, Tagged, string][] = [[actual, expected, "$"]];
  while (work.length > 0) {
    const [a, e, path] = work.pop()!;
    // A function: showing the values costs a walk of both, worth it only for the report.
    const differ = () => `at ${path}: expected ${show(e)}, got ${show(a)}`;
    if (
      options.looseFloats && isObject(e) && "$float" in e &&
      typeof a === "number"
    ) {
      if (!Object.is(a, e.$float)) return differ();
      continue;
    }
    if (typeof e === "number" || typeof a === "number") {
      if (!Object.is(a, e)) return differ();
      continue;
    }
    if (!isObject(e) || !isObject(a)) {
      if (Array.isArray(e) && Array.isArray(a)) {
        if (a.length !== e.length) {
          return `at ${path}: expected ${e.length} items, got ${a.length}: expected ${
            show(e)
          }, got ${show(a)}`;
        }
        for (let i = e.length - 1; i >= 0; i--) {
          work.push([a[i], e[i], `${path}[${i}]`]);
        }
        continue;
      }
      if (a !== e) return differ();
      continue;
    }
    if ("$ref" in e || "$ref" in a) {
      if (!("$ref" in e) || !("$ref" in a) || idMap.get(e.$ref) !== a.$ref) {
        return `${differ()} (shared references differ)`;
      }
      continue;
    }
    if (("$id" in e) !== ("$id" in a)) {
      return `${differ()} (one is shared, the other is not)`;
    }
    if ("$id" in e) {
      if (idMap.has(e.$id) || reverse.has(a.$id)) {
        return `${differ()} (shared references differ)`;
      }
      idMap.set(e.$id, a.$id);
      reverse.set(a.$id, e.$id);
    }
    // Walk the fields in the order they were written: where a shared object is first met.
    const keys = Object.keys(e).filter((k) => k !== "$id");
    const actualKeys = Object.keys(a).filter((k) => k !== "$id");
    if ([...keys].sort().join() !== [...actualKeys].sort().join()) {
      return `${differ()} (fields ${actualKeys.join()} instead of ${keys.join()})`;
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      work.push([a[keys[i]], e[keys[i]], `${path}.${keys[i]}`]);
    }
  }
  return null;
}
