//! A tape materializer for the tests, following the tape table of `codec/README.md` the way
//! `codec/decode.ts` does, and a renderer that prints values exactly like `make_vectors.py`.

use crate::tape::{self, Tape};
use std::cell::RefCell;
use std::rc::Rc;

/// The concatenated output of every step of one decode.
#[derive(Default, Debug)]
pub struct Output {
    pub words: Vec<i32>,
    pub floats: Vec<f64>,
    pub text: Vec<u8>,
    pub units: Vec<u16>,
    pub bytes: Vec<u8>,
}

impl PartialEq for Output {
    fn eq(&self, other: &Output) -> bool {
        let bits = |floats: &[f64]| floats.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        self.words == other.words
            && bits(&self.floats) == bits(&other.floats)
            && self.text == other.text
            && self.units == other.units
            && self.bytes == other.bytes
    }
}

impl Output {
    /// The same tape with every run instruction written out as its single values (and the
    /// `APPENDS` of an appended run): where a window ends splits a run, nothing else.
    pub fn without_runs(&self) -> Output {
        let mut words = Vec::with_capacity(self.words.len());
        let mut at = 0;
        while at < self.words.len() {
            let code = self.words[at];
            if code == tape::APPEND_STRS || code == tape::SETITEMS_STRS {
                let n = self.words[at + 1] as usize;
                let strings = if code == tape::APPEND_STRS { n } else { 2 * n };
                for pair in self.words[at + 2..at + 2 + 2 * strings].chunks(2) {
                    words.extend_from_slice(&[tape::STR, pair[0], tape::PUT, pair[1]]);
                }
                let consumer = if code == tape::APPEND_STRS {
                    tape::APPENDS
                } else {
                    tape::SETITEMS
                };
                words.extend_from_slice(&[consumer, n as i32]);
                at += 2 + 2 * strings;
                continue;
            }
            let (single, append) = match code {
                tape::INT32S => (tape::INT32, false),
                tape::FLOATS => (tape::FLOAT, false),
                tape::GETS => (tape::GET, false),
                tape::APPEND_INT32S => (tape::INT32, true),
                tape::APPEND_FLOATS => (tape::FLOAT, true),
                tape::APPEND_GETS => (tape::GET, true),
                _ => {
                    let len = 1 + tape_args(code);
                    words.extend_from_slice(&self.words[at..at + len]);
                    at += len;
                    continue;
                }
            };
            let n = self.words[at + 1] as usize;
            at += 2;
            for _ in 0..n {
                words.push(single);
                if single != tape::FLOAT {
                    words.push(self.words[at]);
                    at += 1;
                }
            }
            if append {
                words.extend_from_slice(&[tape::APPENDS, n as i32]);
            }
        }
        Output {
            words,
            floats: self.floats.clone(),
            text: self.text.clone(),
            units: self.units.clone(),
            bytes: self.bytes.clone(),
        }
    }

    pub fn append(&mut self, tape: &Tape) {
        // Each step's text arena is whole UTF-8, so concatenation is what TypeScript sees.
        assert!(std::str::from_utf8(&tape.text).is_ok());
        self.words.extend_from_slice(&tape.words);
        self.floats.extend_from_slice(&tape.floats);
        self.text.extend_from_slice(&tape.text);
        self.units.extend_from_slice(&tape.units);
        self.bytes.extend_from_slice(&tape.bytes);
    }
}

/// How many argument words follow the instruction `code` (of the other instructions than runs).
fn tape_args(code: i32) -> usize {
    match code {
        tape::INT32 | tape::INT_TEXT | tape::STR | tape::STR16 | tape::ARENA_BYTES => 1,
        tape::LIST | tape::TUPLE | tape::DICT | tape::FROZENSET | tape::APPENDS => 1,
        tape::SETITEMS | tape::ADDITEMS | tape::POP | tape::PUT | tape::GET => 1,
        tape::INST | tape::OBJ | tape::PROTO => 1,
        tape::INT_HEX | tape::PERSID | tape::BINPERSID | tape::NEXT_BUFFER => 2,
        tape::EXT => 3,
        tape::BYTES | tape::BYTEARRAY => 4,
        _ => 0,
    }
}

#[derive(Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(String),
    Float(u64),
    Str(Vec<u16>),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    MemoryView(Vec<u8>),
    List(Rc<RefCell<Vec<Value>>>),
    Tuple(Rc<Vec<Value>>),
    Dict(Rc<RefCell<Vec<(Value, Value)>>>),
    Set(Rc<RefCell<Vec<Value>>>),
    FrozenSet(Rc<Vec<Value>>),
    Record(Rc<RefCell<Record>>),
}

pub struct Record {
    kind: char,
    parts: Vec<Value>,
    ops: Vec<(char, Value, Option<Value>)>,
}

fn record(kind: char, parts: Vec<Value>) -> Value {
    Value::Record(Rc::new(RefCell::new(Record {
        kind,
        parts,
        ops: Vec::new(),
    })))
}

fn hex_i64(value: i64) -> String {
    if value < 0 {
        format!("-{:#x}", value.unsigned_abs())
    } else {
        format!("{:#x}", value)
    }
}

fn decimal_to_hex(text: &str) -> String {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut limbs: Vec<u32> = vec![0];
    for digit in digits.bytes() {
        let mut carry = u64::from(digit - b'0');
        for limb in limbs.iter_mut() {
            let value = u64::from(*limb) * 10 + carry;
            *limb = value as u32;
            carry = value >> 32;
        }
        if carry > 0 {
            limbs.push(carry as u32);
        }
    }
    let mut out = format!("{:x}", limbs.last().unwrap());
    for limb in limbs.iter().rev().skip(1) {
        out.push_str(&format!("{:08x}", limb));
    }
    format!("{}0x{}", if negative { "-" } else { "" }, out)
}

struct Reader<'a> {
    output: &'a Output,
    word: usize,
    float: usize,
    text: Vec<u16>,
    text_at: usize,
    unit: usize,
    byte: usize,
}

impl Reader<'_> {
    fn word(&mut self) -> i32 {
        self.word += 1;
        self.output.words[self.word - 1]
    }
    fn count(&mut self) -> usize {
        self.word() as u32 as usize
    }
    fn offset(&mut self) -> usize {
        let low = self.word() as u32 as u64;
        let high = self.word() as u32 as u64;
        (low | (high << 32)) as usize
    }
    fn text(&mut self, units: usize) -> Vec<u16> {
        self.text_at += units;
        self.text[self.text_at - units..self.text_at].to_vec()
    }
}

fn pop_n(stack: &mut Vec<Value>, n: usize) -> Vec<Value> {
    assert!(n <= stack.len(), "the tape popped below the stack");
    stack.split_off(stack.len() - n)
}

fn ascii(units: &[u16]) -> String {
    String::from_utf16(units).unwrap()
}

/// Runs the tape the way `codec/decode.ts` does, with every global left unresolved.
pub fn materialize(output: &Output, input: &[u8]) -> Value {
    let text = std::str::from_utf8(&output.text)
        .unwrap()
        .encode_utf16()
        .collect();
    let mut r = Reader {
        output,
        word: 0,
        float: 0,
        text,
        text_at: 0,
        unit: 0,
        byte: 0,
    };
    let mut stack: Vec<Value> = Vec::new();
    let mut memo: Vec<Option<Value>> = Vec::new();
    while r.word < output.words.len() {
        let code = r.word();
        match code {
            tape::STOP => {
                let result = stack.pop().expect("STOP on an empty stack");
                assert_eq!(r.word, output.words.len());
                assert_eq!(r.float, output.floats.len());
                assert_eq!(r.text_at, r.text.len());
                assert_eq!(r.unit, output.units.len());
                assert_eq!(r.byte, output.bytes.len());
                return result;
            }
            tape::NONE => stack.push(Value::None),
            tape::TRUE => stack.push(Value::Bool(true)),
            tape::FALSE => stack.push(Value::Bool(false)),
            tape::INT32 => {
                let value = r.word();
                stack.push(Value::Int(hex_i64(i64::from(value))));
            }
            tape::INT_F64 => {
                let value = output.floats[r.float];
                r.float += 1;
                assert!(value.fract() == 0.0 && value.abs() <= 9007199254740992.0);
                assert!(value.abs() > i32::MAX as f64 || value < i32::MIN as f64);
                stack.push(Value::Int(hex_i64(value as i64)));
            }
            tape::INT64 => {
                let value = output.floats[r.float].to_bits() as i64;
                r.float += 1;
                assert!(value.unsigned_abs() > tape::MAX_SAFE_INTEGER);
                stack.push(Value::Int(hex_i64(value)));
            }
            tape::INT_TEXT => {
                let len = r.count();
                let digits = ascii(&r.text(len));
                stack.push(Value::Int(decimal_to_hex(&digits)));
            }
            tape::INT_HEX => {
                let len = r.count();
                let digits = ascii(&r.text(len));
                let negative = r.word() == 1;
                assert!(
                    !digits.starts_with('0')
                        && digits
                            .bytes()
                            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                );
                stack.push(Value::Int(format!(
                    "{}0x{}",
                    if negative { "-" } else { "" },
                    digits
                )));
            }
            tape::FLOAT => {
                stack.push(Value::Float(float_bits(output.floats[r.float])));
                r.float += 1;
            }
            tape::INT32S | tape::FLOATS | tape::GETS => {
                let n = r.count();
                assert!(n >= 2, "a run of one value is written as that value");
                for _ in 0..n {
                    let value = run_item(code, &mut r, &memo);
                    stack.push(value);
                }
            }
            tape::APPEND_STRS | tape::SETITEMS_STRS => {
                let n = r.count();
                let strings = if code == tape::APPEND_STRS { n } else { 2 * n };
                let mut items = Vec::with_capacity(strings);
                for _ in 0..strings {
                    let units = r.count();
                    let value = Value::Str(r.text(units));
                    let slot = r.count();
                    assert!(slot <= memo.len(), "memo slots are dense");
                    if slot == memo.len() {
                        memo.push(None);
                    }
                    memo[slot] = Some(value.clone());
                    items.push(value);
                }
                match stack.last().expect("run target") {
                    Value::List(list) if code == tape::APPEND_STRS => {
                        list.borrow_mut().extend(items)
                    }
                    Value::Dict(dict) if code == tape::SETITEMS_STRS => {
                        for pair in items.chunks(2) {
                            set_item(&mut dict.borrow_mut(), pair[0].clone(), pair[1].clone());
                        }
                    }
                    _ => panic!("a run of strings added to a value of another kind"),
                }
            }
            tape::APPEND_INT32S | tape::APPEND_FLOATS | tape::APPEND_GETS => {
                let n = r.count();
                let items: Vec<Value> = (0..n).map(|_| run_item(code, &mut r, &memo)).collect();
                match stack.last().expect("APPEND target") {
                    Value::List(list) => list.borrow_mut().extend(items),
                    _ => panic!("a run appended to a value that is no list"),
                }
            }
            tape::STR => {
                let units = r.count();
                stack.push(Value::Str(r.text(units)));
            }
            tape::STR16 => {
                let units = r.count();
                stack.push(Value::Str(output.units[r.unit..r.unit + units].to_vec()));
                r.unit += units;
            }
            tape::BYTES | tape::BYTEARRAY => {
                let offset = r.offset();
                let len = r.offset();
                let data = input[offset..offset + len].to_vec();
                stack.push(if code == tape::BYTES {
                    Value::Bytes(data)
                } else {
                    Value::ByteArray(data)
                });
            }
            tape::ARENA_BYTES => {
                let len = r.count();
                stack.push(Value::Bytes(output.bytes[r.byte..r.byte + len].to_vec()));
                r.byte += len;
            }
            tape::EMPTY_LIST => stack.push(Value::List(Rc::default())),
            tape::EMPTY_DICT => stack.push(Value::Dict(Rc::default())),
            tape::EMPTY_SET => stack.push(Value::Set(Rc::default())),
            tape::LIST => {
                let n = r.count();
                let items = pop_n(&mut stack, n);
                stack.push(Value::List(Rc::new(RefCell::new(items))));
            }
            tape::TUPLE => {
                let n = r.count();
                let items = pop_n(&mut stack, n);
                stack.push(Value::Tuple(Rc::new(items)));
            }
            tape::FROZENSET => {
                let n = r.count();
                let mut items = Vec::new();
                for item in pop_n(&mut stack, n) {
                    add_unique(&mut items, item);
                }
                stack.push(Value::FrozenSet(Rc::new(items)));
            }
            tape::DICT => {
                let n = r.count();
                let dict = Rc::new(RefCell::new(Vec::new()));
                let items = pop_n(&mut stack, 2 * n);
                for pair in items.chunks(2) {
                    set_item(&mut dict.borrow_mut(), pair[0].clone(), pair[1].clone());
                }
                stack.push(Value::Dict(dict));
            }
            tape::APPEND | tape::APPENDS => {
                let n = if code == tape::APPEND { 1 } else { r.count() };
                let items = pop_n(&mut stack, n);
                match stack.last().expect("APPEND target") {
                    Value::List(list) => list.borrow_mut().extend(items),
                    Value::Record(rec) => rec
                        .borrow_mut()
                        .ops
                        .extend(items.into_iter().map(|v| ('a', v, None))),
                    _ => panic!("APPEND to a value that is no list"),
                }
            }
            tape::SETITEM | tape::SETITEMS => {
                let n = if code == tape::SETITEM { 1 } else { r.count() };
                let items = pop_n(&mut stack, 2 * n);
                match stack.last().expect("SETITEM target") {
                    Value::Dict(dict) => {
                        for pair in items.chunks(2) {
                            set_item(&mut dict.borrow_mut(), pair[0].clone(), pair[1].clone());
                        }
                    }
                    Value::Record(rec) => {
                        for pair in items.chunks(2) {
                            rec.borrow_mut().ops.push((
                                's',
                                pair[0].clone(),
                                Some(pair[1].clone()),
                            ));
                        }
                    }
                    _ => panic!("SETITEM on a value that is no dict"),
                }
            }
            tape::ADDITEMS => {
                let n = r.count();
                let items = pop_n(&mut stack, n);
                match stack.last().expect("ADDITEMS target") {
                    Value::Set(set) => {
                        for item in items {
                            add_unique(&mut set.borrow_mut(), item);
                        }
                    }
                    Value::Record(rec) => rec
                        .borrow_mut()
                        .ops
                        .extend(items.into_iter().map(|v| ('+', v, None))),
                    _ => panic!("ADDITEMS on a value that is no set"),
                }
            }
            tape::POP => {
                let n = r.count();
                pop_n(&mut stack, n);
            }
            tape::DUP => {
                let top = stack.last().expect("DUP").clone();
                stack.push(top);
            }
            tape::PUT => {
                let slot = r.count();
                assert!(slot <= memo.len(), "memo slots are dense");
                if slot == memo.len() {
                    memo.push(None);
                }
                memo[slot] = Some(stack.last().expect("PUT").clone());
            }
            tape::GET => {
                let slot = r.count();
                stack.push(memo[slot].clone().expect("GET of an empty slot"));
            }
            tape::GLOBAL => {
                let parts = pop_n(&mut stack, 2);
                assert!(parts.iter().all(|p| matches!(p, Value::Str(_))));
                stack.push(record('G', parts));
            }
            tape::REDUCE | tape::NEWOBJ => {
                let parts = pop_n(&mut stack, 2);
                assert!(
                    matches!(parts[0], Value::Record(_)) && matches!(parts[1], Value::Tuple(_))
                );
                stack.push(record(if code == tape::REDUCE { 'R' } else { 'N' }, parts));
            }
            tape::NEWOBJ_EX => {
                let parts = pop_n(&mut stack, 3);
                assert!(matches!(parts[1], Value::Tuple(_)) && matches!(parts[2], Value::Dict(_)));
                stack.push(record('X', parts));
            }
            tape::BUILD => {
                let state = stack.pop().expect("BUILD state");
                match stack.last().expect("BUILD target") {
                    Value::Record(rec) => rec.borrow_mut().ops.push(('b', state, None)),
                    _ => panic!("BUILD on a value that is no object"),
                }
            }
            tape::INST => {
                let n = r.count();
                let names = pop_n(&mut stack, 2);
                let args = pop_n(&mut stack, n);
                let mut parts = names;
                parts.push(Value::Tuple(Rc::new(args)));
                stack.push(record('I', parts));
            }
            tape::OBJ => {
                let n = r.count();
                let args = pop_n(&mut stack, n);
                let class = stack.pop().expect("OBJ class");
                stack.push(record('O', vec![class, Value::Tuple(Rc::new(args))]));
            }
            tape::PERSID | tape::BINPERSID => {
                let _offset = r.offset();
                let pid = stack.pop().expect("persistent id");
                stack.push(record('P', vec![pid]));
            }
            tape::EXT => {
                let code = r.word();
                let _offset = r.offset();
                stack.push(record('E', vec![Value::Int(hex_i64(i64::from(code)))]));
            }
            tape::NEXT_BUFFER => {
                let _offset = r.offset();
                stack.push(record('B', Vec::new()));
            }
            tape::READONLY_BUFFER => {
                if let Some(Value::ByteArray(data)) = stack.last() {
                    let data = data.clone();
                    *stack.last_mut().unwrap() = Value::MemoryView(data);
                }
            }
            tape::PROTO => {
                let protocol = r.count();
                assert!(protocol <= 5);
            }
            other => panic!("unknown tape instruction {}", other),
        }
    }
    panic!("the tape has no STOP");
}

/// The bits of a float slot of `FLOAT`, `FLOATS`, `APPEND_FLOATS`: its bytes are big-endian.
fn float_bits(slot: f64) -> u64 {
    u64::from_be_bytes(slot.to_ne_bytes())
}

/// The next value of a run instruction (`INT32S`, `APPEND_FLOATS`, …).
fn run_item(code: i32, r: &mut Reader, memo: &[Option<Value>]) -> Value {
    match code {
        tape::INT32S | tape::APPEND_INT32S => Value::Int(hex_i64(i64::from(r.word()))),
        tape::FLOATS | tape::APPEND_FLOATS => {
            r.float += 1;
            Value::Float(float_bits(r.output.floats[r.float - 1]))
        }
        _ => {
            let slot = r.count();
            memo[slot].clone().expect("GET of an empty slot")
        }
    }
}

fn add_unique(items: &mut Vec<Value>, item: Value) {
    let key = render(&item);
    if !items.iter().any(|existing| render(existing) == key) {
        items.push(item);
    }
}

fn set_item(pairs: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    let rendered = render(&key);
    match pairs.iter_mut().find(|(k, _)| render(k) == rendered) {
        Some(pair) => pair.1 = value,
        None => pairs.push((key, value)),
    }
}

fn render_str(units: &[u16]) -> String {
    let mut out = String::from("'");
    for &unit in units {
        if (0x20..0x7f).contains(&unit) && unit != u16::from(b'\'') && unit != u16::from(b'\\') {
            out.push(char::from(unit as u8));
        } else {
            out.push_str(&format!("\\u{:04x}", unit));
        }
    }
    out.push('\'');
    out
}

fn hex_bytes(data: &[u8]) -> String {
    data.iter().map(|b| format!("{:02x}", b)).collect()
}

/// Prints a value like `render()` in `make_vectors.py`.
pub fn render(value: &Value) -> String {
    render_inner(value, &mut Vec::new())
}

fn identity(value: &Value) -> Option<usize> {
    Some(match value {
        Value::List(v) => Rc::as_ptr(v) as *const u8 as usize,
        Value::Tuple(v) => Rc::as_ptr(v) as *const u8 as usize,
        Value::Dict(v) => Rc::as_ptr(v) as *const u8 as usize,
        Value::Set(v) => Rc::as_ptr(v) as *const u8 as usize,
        Value::FrozenSet(v) => Rc::as_ptr(v) as *const u8 as usize,
        Value::Record(v) => Rc::as_ptr(v) as *const u8 as usize,
        _ => return None,
    })
}

fn render_inner(value: &Value, active: &mut Vec<usize>) -> String {
    let id = identity(value);
    if let Some(id) = id {
        if active.contains(&id) {
            return "<cycle>".into();
        }
        active.push(id);
    }
    let join = |items: &[Value], active: &mut Vec<usize>| {
        items
            .iter()
            .map(|v| render_inner(v, active))
            .collect::<Vec<_>>()
    };
    let out = match value {
        Value::None => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(text) => text.clone(),
        Value::Float(bits) => format!("f{:016x}", bits),
        Value::Str(units) => render_str(units),
        Value::Bytes(data) => format!("b:{}", hex_bytes(data)),
        Value::ByteArray(data) => format!("ba:{}", hex_bytes(data)),
        Value::MemoryView(data) => format!("mv:{}", hex_bytes(data)),
        Value::List(items) => format!("[{}]", join(&items.borrow(), active).join(", ")),
        Value::Tuple(items) => format!("({})", join(items, active).join(", ")),
        Value::Dict(pairs) => {
            let pairs = pairs.borrow();
            let parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", render_inner(k, active), render_inner(v, active)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Set(items) => {
            let mut parts = join(&items.borrow(), active);
            parts.sort();
            format!("set{{{}}}", parts.join(", "))
        }
        Value::FrozenSet(items) => {
            let mut parts = join(items, active);
            parts.sort();
            format!("fs{{{}}}", parts.join(", "))
        }
        Value::Record(rec) => {
            let rec = rec.borrow();
            let mut out = match rec.kind {
                'G' => format!(
                    "G({} {})",
                    render_inner(&rec.parts[0], active),
                    render_inner(&rec.parts[1], active)
                ),
                'I' => format!(
                    "I({} {} {})",
                    render_inner(&rec.parts[0], active),
                    render_inner(&rec.parts[1], active),
                    render_inner(&rec.parts[2], active)
                ),
                kind => format!("{}({})", kind, join(&rec.parts, active).join(" ")),
            };
            for (op, item, value) in &rec.ops {
                match value {
                    Some(value) => out.push_str(&format!(
                        " s{}:{}",
                        render_inner(item, active),
                        render_inner(value, active)
                    )),
                    None => out.push_str(&format!(" {}{}", op, render_inner(item, active))),
                }
            }
            out
        }
    };
    if id.is_some() {
        active.pop();
    }
    out
}
