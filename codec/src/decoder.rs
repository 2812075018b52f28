//! The pickle machine: an iterative VM over a window of the input. Its stack holds only the
//! [`Kind`] of each value with its nesting depth and expanded tree size, which is all that
//! validation and the limits need; values are built by TypeScript from the tape.

use crate::floats::parse_float_text;
use crate::ints;
use crate::memo::MemoMap;
use crate::opcodes as op;
use crate::tape::{self, Tape};
use crate::text;

/// What `encoding` does to the Python 2 `str` opcodes (`STRING`, `BINSTRING`, `SHORT_BINSTRING`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Encoding {
    Ascii,
    Latin1,
    Bytes,
    Utf8,
}

impl Encoding {
    /// The ABI's number for an encoding (0 ASCII, 1 latin1, 2 bytes, 3 strict UTF-8).
    pub fn from_abi(code: u32) -> Option<Encoding> {
        Some(match code {
            0 => Encoding::Ascii,
            1 => Encoding::Latin1,
            2 => Encoding::Bytes,
            3 => Encoding::Utf8,
            _ => return None,
        })
    }
}

/// Resource limits; 0 means "no limit".
#[derive(Clone, Copy, Default, Debug)]
pub struct Limits {
    /// Deepest container nesting.
    pub max_depth: u32,
    /// Most distinct memo keys.
    pub max_memo: u32,
    /// Most decimal digits in the text of an `INT` or `LONG`.
    pub max_int_digits: u32,
    /// Largest expanded tree (shared references counted every time they are used).
    pub max_nodes: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    Done = 0,
    More = 1,
    Error = 2,
}

/// The type of a value on the stack, as far as validation needs it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Kind {
    None,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    ByteArray,
    List,
    Tuple,
    Dict,
    Set,
    FrozenSet,
    /// What `REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `INST` or `OBJ` made: unknown until TypeScript runs it.
    Object,
    /// A class or function named by `GLOBAL`, `STACK_GLOBAL` or `EXT`.
    Global,
    /// What `persistent_load` returns.
    Persistent,
    /// An out-of-band buffer, or a read-only view.
    Buffer,
}

impl Kind {
    fn python_name(self) -> &'static str {
        match self {
            Kind::None => "NoneType",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Str => "str",
            Kind::Bytes => "bytes",
            Kind::ByteArray => "bytearray",
            Kind::List => "list",
            Kind::Tuple => "tuple",
            Kind::Dict => "dict",
            Kind::Set => "set",
            Kind::FrozenSet => "frozenset",
            Kind::Object => "object",
            Kind::Global => "global",
            Kind::Persistent => "persistent object",
            Kind::Buffer => "buffer",
        }
    }

    /// Values whose methods CPython would call (so TypeScript records what is done to them).
    fn is_object(self) -> bool {
        matches!(self, Kind::Object | Kind::Global | Kind::Persistent)
    }

    /// Values that tape instructions can change after they were pushed.
    fn is_mutable(self) -> bool {
        matches!(
            self,
            Kind::List | Kind::Dict | Kind::Set | Kind::Object | Kind::Global | Kind::Persistent
        )
    }

    fn is_unhashable(self) -> bool {
        matches!(self, Kind::List | Kind::Dict | Kind::Set | Kind::ByteArray)
    }
}

/// One stack (or memo) value, in 16 bytes with no padding: `numeric` fills the last byte so
/// that a copy is two whole 8-byte moves (with a padding byte, copies were split into
/// overlapping moves that stall store forwarding on every `GET`).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct Entry {
    /// The expanded tree size (unused for a shared value).
    size: u64,
    /// The nesting depth, or the index in `objects` of a shared value.
    link: u32,
    kind: Kind,
    /// Python would refuse it as a dict key or set item (a tuple inherits it from its items).
    unhashable: bool,
    /// A mutable value shared through the memo or `DUP`: `link` is its index in `objects`,
    /// where its depth and size live so that every reference sees later growth.
    shared: bool,
    /// A list that has only had runs of ints and floats appended (`APPEND_INT32S`,
    /// `APPEND_FLOATS`): TypeScript keeps its items in an elements kind of numbers, and runs of
    /// numbers go into it through store sites that see no other kind (see `codec/decode.ts`).
    numeric: bool,
}

impl Entry {
    fn new(kind: Kind, depth: u32, size: u64) -> Entry {
        Entry {
            kind,
            unhashable: kind.is_unhashable(),
            shared: false,
            numeric: false,
            link: depth,
            size,
        }
    }

    fn scalar(kind: Kind) -> Entry {
        Entry::new(kind, 0, 1)
    }

    fn same_object(&self, other: &Entry) -> bool {
        self.shared && other.shared && self.link == other.link
    }
}

#[derive(Clone, Copy)]
struct Shape {
    depth: u32,
    size: u64,
    /// See [`Entry::numeric`].
    numeric: bool,
}

/// Why an opcode could not be completed.
enum Halt {
    /// The opcode needs a window of this many bytes from its start.
    Incomplete(u64),
    /// Malformed input; the message says what (the caller adds where).
    Fail(String),
}

type Step<T = ()> = Result<T, Halt>;

/// The opcodes of a run, read from the window after its first opcode.
struct RunItems<'a> {
    /// The window after the run's first opcode.
    args: &'a [u8],
    /// The bytes of the input from `args` on.
    remaining: u64,
    /// How many bytes of `args` the run has read.
    used: usize,
}

/// The longest item of a run with its opcode (`BINFLOAT`, and a `FRAME` between items).
const LONGEST_RUN_ITEM: usize = 9;

impl<'a> RunItems<'a> {
    /// The next opcode and the window after it, past any valid `FRAME`.
    #[inline(always)]
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        loop {
            let opcode = *self.args.get(self.used)?;
            let args = self.args.get(self.used + 1..).unwrap_or(&[]);
            if opcode != op::FRAME {
                return Some((opcode, args));
            }
            let len = u64::from_le_bytes(fixed(args)?);
            let after = (self.used + LONGEST_RUN_ITEM) as u64;
            if len > self.remaining.saturating_sub(after) {
                return None;
            }
            self.used += LONGEST_RUN_ITEM;
        }
    }

    /// The window after the opcode being read.
    #[inline(always)]
    fn rest(&self) -> &'a [u8] {
        self.args.get(self.used..).unwrap_or(&[])
    }

    /// Whether the next opcode (past any `FRAME`) is one that `same` accepts.
    #[inline(always)]
    fn continues(&mut self, same: impl Fn(u8) -> bool) -> bool {
        self.next().map_or(false, |(next, _)| same(next))
    }

    /// Whether the window's end (before the input's end) may have cut the run.
    fn cut(&self) -> bool {
        self.args.len() - self.used < LONGEST_RUN_ITEM && (self.args.len() as u64) < self.remaining
    }
}

/// What [`Decoder::run`] did.
enum Run {
    /// It read a run; the number of bytes after its first opcode.
    Read(usize),
    /// The window's end cut the run, which did not start the window: nothing was done.
    CutByWindow,
    /// The opcode starts no run (or its argument is incomplete): nothing was done.
    None,
}

fn fail<T>(message: impl Into<String>) -> Step<T> {
    Err(Halt::Fail(message.into()))
}

const TRUNCATED: &str = "Pickle data was truncated";

/// The smallest window `MORE` asks for when a line does not fit.
const MIN_LINE_WINDOW: u64 = 4096;

/// Reads the arguments of one opcode from the window.
struct Cursor<'a> {
    window: &'a [u8],
    /// Absolute offset of `window[0]`.
    base: u64,
    total_len: u64,
    /// Where the current opcode starts, relative to the window.
    start: u64,
    /// Where reading continues, relative to the window; may pass its end after a skipped payload.
    pos: u64,
}

impl<'a> Cursor<'a> {
    fn absolute(&self, relative: u64) -> u64 {
        self.base.saturating_add(relative)
    }

    #[inline]
    fn take(&mut self, len: u64) -> Step<&'a [u8]> {
        let end = self
            .pos
            .checked_add(len)
            .ok_or_else(|| Halt::Fail(TRUNCATED.into()))?;
        if self.absolute(end) > self.total_len {
            return fail(TRUNCATED);
        }
        let window_len = self.window.len() as u64;
        if end > window_len {
            return Err(Halt::Incomplete(end - self.start));
        }
        let bytes = self
            .window
            .get(self.pos as usize..end as usize)
            .ok_or_else(|| Halt::Incomplete(end - self.start))?;
        self.pos = end;
        Ok(bytes)
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Step<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N as u64)?);
        Ok(out)
    }

    #[inline]
    fn byte(&mut self) -> Step<u8> {
        Ok(self.array::<1>()?[0])
    }

    #[inline]
    fn u32_le(&mut self) -> Step<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64_le(&mut self) -> Step<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// The next line, without its `\n`.
    fn line(&mut self) -> Step<&'a [u8]> {
        let rest = self.window.get(self.pos as usize..).unwrap_or(&[]);
        match rest.iter().position(|&b| b == b'\n') {
            Some(len) => {
                let line = &rest[..len];
                self.pos += len as u64 + 1;
                Ok(line)
            }
            None => {
                let window_len = self.window.len() as u64;
                if self.absolute(window_len) >= self.total_len {
                    return fail(TRUNCATED);
                }
                let have = window_len.saturating_sub(self.start);
                Err(Halt::Incomplete(
                    have.saturating_mul(2).max(MIN_LINE_WINDOW),
                ))
            }
        }
    }

    /// Skips a payload that TypeScript reads straight from the input; returns its offset.
    fn skip(&mut self, len: u64) -> Step<u64> {
        let offset = self.absolute(self.pos);
        match offset.checked_add(len) {
            Some(end) if end <= self.total_len => {
                self.pos += len;
                Ok(offset)
            }
            _ => fail(TRUNCATED),
        }
    }
}

/// The machine, kept across windows.
pub struct Decoder {
    total_len: u64,
    encoding: Encoding,
    limits: Limits,
    stack: Vec<Entry>,
    /// Stack lengths at each `MARK`; the last one is the fence below which nothing may be popped.
    marks: Vec<usize>,
    memo: MemoMap,
    /// The value stored under each dense memo slot.
    memo_values: Vec<Entry>,
    /// Depth and size of the mutable values that have more than one reference.
    objects: Vec<Shape>,
    next_offset: u64,
    finished: bool,
    /// This step's output.
    pub tape: Tape,
    /// For `MORE`: the minimum length of the next window. For `ERROR`: the failing offset.
    pub need: u64,
    /// For `ERROR`: the message.
    pub error: String,
}

impl Decoder {
    pub fn new(total_len: u64, encoding: Encoding, limits: Limits) -> Decoder {
        Decoder {
            total_len,
            encoding,
            limits,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: MemoMap::default(),
            memo_values: Vec::new(),
            objects: Vec::new(),
            next_offset: 0,
            finished: false,
            tape: Tape::default(),
            need: 0,
            error: String::new(),
        }
    }

    /// Where the next window must start.
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// Parses the whole opcodes of `window`, the input bytes from `window_offset` on.
    pub fn step(&mut self, window: &[u8], window_offset: u64) -> Status {
        self.tape.clear();
        if self.finished {
            return self
                .finish_with_error(self.next_offset, "The decoder has already finished".into());
        }
        if window_offset != self.next_offset {
            let message = format!(
                "Window starts at byte {}, expected {}",
                window_offset, self.next_offset
            );
            return self.finish_with_error(window_offset, message);
        }
        let window_end = window_offset.checked_add(window.len() as u64);
        if window_end.map_or(true, |end| end > self.total_len) {
            let message = format!(
                "Window passes the end of the input ({} bytes)",
                self.total_len
            );
            return self.finish_with_error(window_offset, message);
        }
        // Most opcodes write one or two words per input byte; reserving up front avoids most of
        // the regrowth of a fresh tape.
        self.tape.words.reserve(window.len());
        let mut cursor = Cursor {
            window,
            base: window_offset,
            total_len: self.total_len,
            start: 0,
            pos: 0,
        };
        loop {
            cursor.start = cursor.pos;
            let offset = cursor.absolute(cursor.pos);
            let opcode = match window.get(cursor.pos as usize) {
                Some(&opcode) if cursor.pos < window.len() as u64 => opcode,
                _ => {
                    if offset >= self.total_len {
                        return self.finish_with_error(
                            offset,
                            format!("{} at byte {}", TRUNCATED, offset),
                        );
                    }
                    self.next_offset = offset;
                    self.need = 1;
                    return Status::More;
                }
            };
            cursor.pos += 1;
            let args = window.get(cursor.pos as usize..).unwrap_or(&[]);
            if starts_run(opcode) {
                let remaining = self.total_len - cursor.absolute(cursor.pos);
                match self.run(opcode, args, remaining, cursor.start > 0) {
                    Run::Read(len) => {
                        cursor.pos += len as u64;
                        continue;
                    }
                    Run::CutByWindow => {
                        self.next_offset = offset;
                        self.need = 1;
                        return Status::More;
                    }
                    Run::None => {}
                }
            }
            // The fast path continues the loop directly, so that no `Step` value is built for it.
            if let Some(len) = self.execute_complete(opcode, args) {
                cursor.pos += len as u64;
                continue;
            }
            match self.execute(opcode, &mut cursor) {
                Ok(false) => {}
                Ok(true) => {
                    self.finished = true;
                    self.need = 0;
                    self.next_offset = cursor.absolute(cursor.pos);
                    return Status::Done;
                }
                Err(Halt::Incomplete(need)) => {
                    self.next_offset = offset;
                    self.need = need.min(self.total_len.saturating_sub(offset));
                    return Status::More;
                }
                Err(Halt::Fail(what)) => {
                    let message = match op::name(opcode) {
                        Some(name) => format!("{} at byte {} ({})", what, offset, name),
                        None => format!("{} at byte {}", what, offset),
                    };
                    return self.finish_with_error(offset, message);
                }
            }
        }
    }

    fn finish_with_error(&mut self, offset: u64, message: String) -> Status {
        self.tape.clear();
        self.finished = true;
        self.need = offset;
        self.error = message;
        Status::Error
    }

    // ----- stack helpers -------------------------------------------------------------------

    #[inline]
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn underflow(&self) -> Halt {
        Halt::Fail(if self.marks.is_empty() {
            "Unpickling stack underflow".into()
        } else {
            "Unexpected MARK found".into()
        })
    }

    /// Fails unless at least `count` values sit above the fence.
    #[inline]
    fn require(&self, count: usize) -> Step {
        if self.stack.len() < self.fence().saturating_add(count) {
            return Err(self.underflow());
        }
        Ok(())
    }

    fn pop(&mut self) -> Step<Entry> {
        self.require(1)?;
        self.stack.pop().ok_or_else(|| self.underflow())
    }

    fn top(&self) -> Step<Entry> {
        self.require(1)?;
        self.stack.last().copied().ok_or_else(|| self.underflow())
    }

    /// Pops the last mark and returns the stack index it points at.
    fn pop_mark(&mut self) -> Step<usize> {
        self.marks
            .pop()
            .ok_or_else(|| Halt::Fail("Could not find MARK".into()))
    }

    /// Pushes a container made of `self.stack[start..]`, which it replaces.
    fn collapse(&mut self, start: usize, kind: Kind) -> Step {
        let entry = combine(
            &self.objects,
            &self.limits,
            kind,
            self.stack.get(start..).unwrap_or(&[]),
        )?;
        self.stack.truncate(start);
        self.stack.push(entry);
        Ok(())
    }

    /// Adds the values `self.stack[from..]`, then `extra`, to the value at `target`.
    fn grow(&mut self, target: usize, from: usize, extra: Option<&Entry>) -> Step {
        let entry = match self.stack.get(target) {
            Some(entry) => *entry,
            None => return Err(self.underflow()),
        };
        let mut shape = shape_of(&self.objects, &entry);
        let children = self.stack.get(from..).unwrap_or(&[]);
        for child in children.iter().chain(extra) {
            if child.same_object(&entry) {
                continue; // A reference to itself: a cycle, not growth.
            }
            let child_shape = shape_of(&self.objects, child);
            shape.depth = shape.depth.max(child_shape.depth.saturating_add(1));
            shape.size = shape.size.saturating_add(child_shape.size);
        }
        check_limits(&self.limits, shape)?;
        shape.numeric = false;
        self.set_shape(target, shape);
        Ok(())
    }

    /// Records the new shape of the value at `index` (in `objects` when it is shared).
    fn set_shape(&mut self, index: usize, shape: Shape) {
        let entry = match self.stack.get_mut(index) {
            Some(entry) => entry,
            None => return,
        };
        if entry.shared {
            if let Some(object) = self.objects.get_mut(entry.link as usize) {
                *object = shape;
            }
        } else {
            entry.link = shape.depth;
            entry.size = shape.size;
            entry.numeric = shape.numeric;
        }
    }

    /// Gives a mutable value at `index` an entry in `objects`, so its copies share its shape;
    /// returns the value's entry as it now is.
    fn share(&mut self, index: usize) -> Option<Entry> {
        // Changed in a copy and written back whole: a read of the entry right after a store to
        // one of its fields would stall store forwarding.
        let slot = self.stack.get_mut(index)?;
        let mut entry = *slot;
        // Past 2**32 shared values (more than wasm32 can hold) a value stays unshared: its later
        // growth is then not seen through its other references.
        if entry.kind.is_mutable() && !entry.shared {
            if let Ok(id) = u32::try_from(self.objects.len()) {
                self.objects.push(Shape {
                    depth: entry.link,
                    size: entry.size,
                    numeric: entry.numeric,
                });
                entry.shared = true;
                entry.link = id;
                *slot = entry;
            }
        }
        Some(entry)
    }

    #[inline(always)]
    fn push_scalar(&mut self, kind: Kind) {
        self.stack.push(Entry::scalar(kind));
    }

    fn check_key(&self, entry: &Entry, what: &str) -> Step {
        if entry.unhashable {
            return fail(format!(
                "Unhashable {} of type {}",
                what,
                entry.kind.python_name()
            ));
        }
        Ok(())
    }

    // ----- the opcodes ---------------------------------------------------------------------

    /// The fast path for the opcodes CPython writes most, when their arguments are complete in
    /// `args` (the window after the opcode) and they cannot fail: returns how many argument bytes
    /// were used, or `None` to let [`Decoder::execute`] handle the opcode (incomplete arguments,
    /// errors to report, rare cases).
    #[inline(always)]
    fn execute_complete(&mut self, opcode: u8, args: &[u8]) -> Option<usize> {
        Some(match opcode {
            op::LONG1 => {
                let len = usize::from(*args.first()?);
                ints::push_twos_complement(args.get(1..1 + len)?, &mut self.tape);
                self.push_scalar(Kind::Int);
                1 + len
            }
            op::NONE => {
                self.tape.op(tape::NONE);
                self.push_scalar(Kind::None);
                0
            }
            op::NEWTRUE | op::NEWFALSE => {
                self.push_bool(opcode == op::NEWTRUE);
                0
            }
            op::MARK => {
                self.marks.push(self.stack.len());
                0
            }
            op::EMPTY_LIST => {
                self.push_empty(tape::EMPTY_LIST, Kind::List);
                0
            }
            op::EMPTY_DICT => {
                self.push_empty(tape::EMPTY_DICT, Kind::Dict);
                0
            }
            op::MEMOIZE | op::BINPUT | op::LONG_BINPUT => {
                let (key, used) = match opcode {
                    op::MEMOIZE => (u64::from(self.memo.len()), 0),
                    op::BINPUT => (u64::from(*args.first()?), 1),
                    _ => (u64::from(u32::from_le_bytes(fixed(args)?)), 4),
                };
                if self.stack.len() <= self.fence() || self.memo_full(key) {
                    return None;
                }
                self.memo_store(key);
                used
            }
            op::SHORT_BINUNICODE | op::BINUNICODE => {
                let (len, header) = if opcode == op::SHORT_BINUNICODE {
                    (usize::from(*args.first()?), 1usize)
                } else {
                    (u32::from_le_bytes(fixed(args)?) as usize, 4)
                };
                let end = header.checked_add(len)?;
                let utf8 = args.get(header..end)?;
                let units = text::utf8_units(utf8)?;
                self.tape.str_utf8(utf8, units);
                self.push_scalar(Kind::Str);
                // CPython memoizes every string: its `MEMOIZE` is done here, without another
                // turn of the loop (the string is on the stack, above any mark).
                if args.get(end) == Some(&op::MEMOIZE) {
                    let key = u64::from(self.memo.len());
                    if !self.memo_full(key) {
                        self.memo_store(key);
                        return Some(end + 1);
                    }
                }
                end
            }
            _ => return None,
        })
    }

    // A list's items come in runs of one opcode (up to 1000 between `MARK` and `APPENDS`): a
    // run is read in one turn of the loop into one tape instruction, and when its `APPENDS`
    // follows, into the list directly, with the kind stack's accounting done once for the whole
    // run instead of an entry pushed and popped per item. A run that the window's end cuts is
    // left to the next window (when it did not start the window), so that it stays whole.
    // The string and float readers are out of line: all four inlined made `step` a function
    // that V8's baseline compiler took 1 ms to compile on a first decode (0.6 ms now); the int
    // and reference readers stay inline, because a record's lone fields go through them and a
    // call per field cost records_1e5 a sixth more machine time.

    /// A run of ints, floats or memo references starting with `opcode`, whose arguments start
    /// `args` (the rest of the window, and `remaining` bytes of the input); `deferrable` when the
    /// run may be left to the next window. The `FRAME`s inside a run (CPython's frames split a
    /// batch every 64 KiB) are checked and skipped.
    #[inline(always)]
    fn run(&mut self, opcode: u8, args: &[u8], remaining: u64, deferrable: bool) -> Run {
        let mut items = RunItems {
            args,
            remaining,
            used: 0,
        };
        match opcode {
            op::BININT1 | op::BININT2 | op::BININT => self.int_run(opcode, &mut items, deferrable),
            op::BINFLOAT => self.float_run(&mut items, deferrable),
            op::BINGET | op::LONG_BINGET => self.get_run(opcode, &mut items, deferrable),
            op::SHORT_BINUNICODE | op::BINUNICODE => self.str_run(opcode, &mut items),
            _ => Run::None,
        }
    }

    /// A run of memoized strings: `SHORT_BINUNICODE` or `BINUNICODE` of text without
    /// surrogates, each followed by `MEMOIZE` (what CPython writes for a list of str from
    /// protocol 4 on). Written as `STR`, `PUT` pairs, which the run's `APPENDS` rewrites in place
    /// into one `APPEND_STRS`. Its memo entries are made as it goes, so it is never left to the
    /// next window: a run the window cuts is pushed.
    #[inline(never)]
    fn str_run(&mut self, first: u8, items: &mut RunItems) -> Run {
        let header = self.tape.words.len();
        let mut count = 0usize;
        let mut next = Some((first, items.args));
        while let Some((opcode, rest)) = next {
            // Where this item's arguments start in `items.args`.
            let base = items.args.len() - rest.len();
            let (len, size): (usize, usize) = match opcode {
                op::SHORT_BINUNICODE => match rest.first() {
                    Some(&len) => (usize::from(len), 1),
                    None => break,
                },
                op::BINUNICODE => match fixed(rest) {
                    Some(len) => (u32::from_le_bytes(len) as usize, 4),
                    None => break,
                },
                _ => break,
            };
            let end = match size.checked_add(len) {
                Some(end) => end,
                None => break,
            };
            let utf8 = match (rest.get(size..end), rest.get(end)) {
                (Some(utf8), Some(&op::MEMOIZE)) => utf8,
                _ => break,
            };
            let key = u64::from(self.memo.len());
            let units = match text::utf8_units(utf8) {
                Some(units) if !self.memo_full(key) => units,
                _ => break,
            };
            self.tape.str_utf8(utf8, units);
            let slot = self.memo_store_value(key, Entry::scalar(Kind::Str));
            self.tape.op_count(tape::PUT, slot as usize);
            items.used = base + end + 1;
            count += 1;
            next = items.next();
        }
        if count == 0 {
            return Run::None;
        }
        let used = items.used;
        let children = Shape {
            depth: 1,
            size: count as u64,
            numeric: false,
        };
        let code = match items.args.get(used) {
            Some(&op::APPENDS) if self.append_run(children) => Some((tape::APPEND_STRS, count)),
            Some(&op::SETITEMS) if count % 2 == 0 && self.extend_run(Kind::Dict, children) => {
                Some((tape::SETITEMS_STRS, count / 2))
            }
            _ => None,
        };
        if let Some((code, n)) = code {
            // `STR u PUT s` × count becomes `code n (u s) × count`, in place.
            let words = &mut self.tape.words;
            for i in 0..count {
                let from = header + 4 * i;
                words[header + 2 + 2 * i] = words[from + 1];
                words[header + 3 + 2 * i] = words[from + 3];
            }
            words[header] = code;
            words[header + 1] = n as i32;
            words.truncate(header + 2 + 2 * count);
            items.used = used + 1;
            return Run::Read(items.used);
        }
        let height = self.stack.len() + count;
        self.stack.resize(height, Entry::scalar(Kind::Str));
        Run::Read(used)
    }

    /// A run of `BININT1`, `BININT2`, `BININT`.
    #[inline(always)]
    fn int_run(&mut self, opcode: u8, items: &mut RunItems, deferrable: bool) -> Run {
        let (first, len) = match binint(opcode, items.rest()) {
            Some(first) => first,
            None => return Run::None,
        };
        items.used += len;
        if !items.continues(|next| matches!(next, op::BININT1 | op::BININT2 | op::BININT)) {
            if items.cut() && deferrable {
                return Run::CutByWindow;
            }
            self.push_int32(first);
            return Run::Read(items.used);
        }
        let header = self.tape.words.len();
        // A local vector's length and capacity stay in registers; the tape's are reloaded after
        // every store.
        let mut words = core::mem::take(&mut self.tape.words);
        words.extend_from_slice(&[tape::INT32S, 0, first]);
        loop {
            // Most items are a whole `BININT` or `BININT1`, read without the checks for a `FRAME`
            // and the window's end (int32_1e6: 3.6 → 3.0 ms, ints_1e6: 3.6 → 3.2 ms). A check
            // of the opcode's own length for all three was slower.
            if let Some(&[op::BININT, a, b, c, d]) = items.args.get(items.used..items.used + 5) {
                words.push(i32::from_le_bytes([a, b, c, d]));
                items.used += 5;
                continue;
            }
            if let Some(&[op::BININT1, a]) = items.args.get(items.used..items.used + 2) {
                words.push(i32::from(a));
                items.used += 2;
                continue;
            }
            let (next, args) = match items.next() {
                Some(item) => item,
                None => break,
            };
            match binint(next, args) {
                Some((value, len)) => {
                    words.push(value);
                    items.used += 1 + len;
                }
                None => break,
            }
        }
        let count = match self.close_word_run(words, items, header, deferrable) {
            Some(count) => count,
            None => return Run::CutByWindow,
        };
        let children = Shape {
            depth: 1,
            size: count as u64,
            numeric: true,
        };
        if self.append_into_list(items, header, tape::APPEND_INT32S, count, children) {
            return Run::Read(items.used);
        }
        if count == 1 {
            self.tape.words.truncate(header);
            self.push_int32(first);
        } else {
            self.tape.words[header + 1] = count as i32;
            let height = self.stack.len() + count;
            self.stack.resize(height, Entry::scalar(Kind::Int));
        }
        Run::Read(items.used)
    }

    /// A run of `BINFLOAT`.
    #[inline(never)]
    fn float_run(&mut self, items: &mut RunItems, deferrable: bool) -> Run {
        let first = match fixed(items.rest()) {
            Some(bytes) => bytes,
            None => return Run::None,
        };
        items.used += 8;
        if !items.continues(|next| next == op::BINFLOAT) {
            if items.cut() && deferrable {
                return Run::CutByWindow;
            }
            self.tape.float(first);
            self.push_scalar(Kind::Float);
            return Run::Read(items.used);
        }
        let header = self.tape.words.len();
        let floats = self.tape.floats.len();
        self.tape.words.extend_from_slice(&[tape::FLOATS, 0]);
        let mut values = core::mem::take(&mut self.tape.floats);
        values.push(f64::from_ne_bytes(first));
        loop {
            // Most items are read from a whole `BINFLOAT` of bytes, without the checks for a
            // `FRAME` and the window's end (3.4 → 2.6 ms for 1e6 floats).
            if let Some(item) = items.args.get(items.used..items.used + 9) {
                if item[0] == op::BINFLOAT {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(&item[1..]);
                    values.push(f64::from_ne_bytes(bytes));
                    items.used += 9;
                    continue;
                }
            }
            match items.next() {
                Some((op::BINFLOAT, args)) => match fixed(args) {
                    Some(bytes) => {
                        values.push(f64::from_ne_bytes(bytes));
                        items.used += 9;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        self.tape.floats = values;
        if items.cut() && deferrable {
            self.tape.words.truncate(header);
            self.tape.floats.truncate(floats);
            return Run::CutByWindow;
        }
        let count = self.tape.floats.len() - floats;
        let children = Shape {
            depth: 1,
            size: count as u64,
            numeric: true,
        };
        if self.append_into_list(items, header, tape::APPEND_FLOATS, count, children) {
            return Run::Read(items.used);
        }
        if count == 1 {
            self.tape.words.truncate(header);
            self.tape.words.push(tape::FLOAT);
        } else {
            self.tape.words[header + 1] = count as i32;
        }
        let height = self.stack.len() + count;
        self.stack.resize(height, Entry::scalar(Kind::Float));
        Run::Read(items.used)
    }

    /// A run of `BINGET`, `LONG_BINGET` of known keys.
    #[inline(always)]
    fn get_run(&mut self, opcode: u8, items: &mut RunItems, deferrable: bool) -> Run {
        let (first, len) = match self.memo_ref(opcode, items.rest()) {
            Some((slot, _, len)) => (slot, len),
            None => return Run::None,
        };
        items.used += len;
        if !items.continues(|next| matches!(next, op::BINGET | op::LONG_BINGET)) {
            if items.cut() && deferrable {
                return Run::CutByWindow;
            }
            self.push_memo(first);
            return Run::Read(items.used);
        }
        // The list an `APPENDS` would extend: its own references are cycles, not growth.
        let target = if self.marks.last() == Some(&self.stack.len()) {
            self.stack.last().copied()
        } else {
            None
        };
        let mut children = Shape {
            depth: 0,
            size: 0,
            numeric: false,
        };
        // The slot added last and the size it added: a run often repeats one reference.
        let mut last: Option<(u32, u64)> = None;
        let mut add = |objects: &[Shape], slot: u32, entry: &Entry| {
            let added = match last {
                Some((last_slot, added)) if last_slot == slot => added,
                _ if target.map_or(false, |target| entry.same_object(&target)) => 0,
                _ => {
                    let shape = shape_of(objects, entry);
                    children.depth = children.depth.max(shape.depth.saturating_add(1));
                    shape.size
                }
            };
            children.size = children.size.saturating_add(added);
            last = Some((slot, added));
        };
        if let Some((_, entry)) = self.memo_lookup_slot(first) {
            add(&self.objects, first, entry);
        }
        let header = self.tape.words.len();
        let mut words = core::mem::take(&mut self.tape.words);
        words.extend_from_slice(&[tape::GETS, 0, first as i32]);
        loop {
            // Most items are a whole `BINGET`, read without the checks for a `FRAME` and the
            // window's end, two at a time where two follow one another.
            let mut used = items.used;
            while let Some(&[op::BINGET, key, next, next_key]) = items.args.get(used..used + 4) {
                let (slot, entry) = match self.memo_lookup(u64::from(key)) {
                    Some(found) => found,
                    None => break,
                };
                add(&self.objects, slot, entry);
                words.push(slot as i32);
                used += 2;
                if next != op::BINGET {
                    break;
                }
                let (slot, entry) = match self.memo_lookup(u64::from(next_key)) {
                    Some(found) => found,
                    None => break,
                };
                add(&self.objects, slot, entry);
                words.push(slot as i32);
                used += 2;
            }
            items.used = used;
            if let Some(&[op::BINGET, key]) = items.args.get(items.used..items.used + 2) {
                if let Some((slot, entry)) = self.memo_lookup(u64::from(key)) {
                    add(&self.objects, slot, entry);
                    words.push(slot as i32);
                    items.used += 2;
                    continue;
                }
            }
            match items
                .next()
                .and_then(|(next, args)| self.memo_ref(next, args))
            {
                Some((slot, entry, len)) => {
                    add(&self.objects, slot, entry);
                    words.push(slot as i32);
                    items.used += 1 + len;
                }
                None => break,
            }
        }
        let count = match self.close_word_run(words, items, header, deferrable) {
            Some(count) => count,
            None => return Run::CutByWindow,
        };
        if self.append_into_list(items, header, tape::APPEND_GETS, count, children) {
            return Run::Read(items.used);
        }
        if count == 1 {
            self.tape.words.truncate(header);
            self.push_memo(first);
        } else {
            self.tape.words[header + 1] = count as i32;
            for &slot in self.tape.words.get(header + 2..).unwrap_or(&[]) {
                if let Some(&entry) = self.memo_values.get(slot as u32 as usize) {
                    self.stack.push(entry);
                }
            }
        }
        Run::Read(items.used)
    }

    /// Puts back the tape words a run was read into, its instruction (op, count, items) from
    /// `header` on, and returns how many items it has; `None` when the window's end may have cut
    /// a deferrable run, which is then taken off the tape to be read whole from the next window.
    #[inline(always)]
    fn close_word_run(
        &mut self,
        words: Vec<i32>,
        items: &RunItems,
        header: usize,
        deferrable: bool,
    ) -> Option<usize> {
        self.tape.words = words;
        if items.cut() && deferrable {
            self.tape.words.truncate(header);
            return None;
        }
        Some(self.tape.words.len() - header - 2)
    }

    /// The slot and value of a `BINGET` or `LONG_BINGET` of a known key whose argument starts
    /// `args`, and the argument's length; `None` for any other opcode or an incomplete argument.
    #[inline(always)]
    fn memo_ref(&self, opcode: u8, args: &[u8]) -> Option<(u32, &Entry, usize)> {
        let (key, used) = match opcode {
            op::BINGET => (u64::from(*args.first()?), 1),
            op::LONG_BINGET => (u64::from(u32::from_le_bytes(fixed(args)?)), 4),
            _ => return None,
        };
        let (slot, entry) = self.memo_lookup(key)?;
        Some((slot, entry, used))
    }

    /// The `APPENDS` that ends a run of values read since its `MARK` and not pushed, whose
    /// expanded size and deepest nesting (plus one) are `children`: when the `MARK` is right
    /// below the run, on a list (a numeric one for a run of numbers), and the grown list is
    /// within the limits, pops the `MARK`, grows the list and returns `true`; otherwise changes
    /// nothing (the run is pushed, and [`Decoder::execute`] runs the `APPENDS` and reports what
    /// is wrong).
    #[inline(always)]
    fn append_run(&mut self, children: Shape) -> bool {
        self.extend_run(Kind::List, children)
    }

    /// When the run's `APPENDS` comes next and [`Decoder::append_run`] takes its `count` values
    /// (whose instruction starts at `header`), rewrites the instruction into `code`, the run into
    /// the list, and reads the `APPENDS`.
    #[inline(always)]
    fn append_into_list(
        &mut self,
        items: &mut RunItems,
        header: usize,
        code: i32,
        count: usize,
        children: Shape,
    ) -> bool {
        if items.args.get(items.used) != Some(&op::APPENDS) || !self.append_run(children) {
            return false;
        }
        self.tape.words[header] = code;
        self.tape.words[header + 1] = count as i32;
        items.used += 1;
        true
    }

    /// [`Decoder::append_run`] for a `kind` of target: a list for `APPENDS`, a dict for the
    /// `SETITEMS` of a run of strings (which are keys Python can hash).
    #[inline(always)]
    fn extend_run(&mut self, kind: Kind, children: Shape) -> bool {
        let start = self.stack.len();
        if self.marks.last() != Some(&start) {
            return false;
        }
        let fence = match self.marks.len().checked_sub(2) {
            Some(below) => self.marks.get(below).copied().unwrap_or(0),
            None => 0,
        };
        let target = match self.stack.last() {
            Some(&target) if start > fence && target.kind == kind => target,
            _ => return false,
        };
        let mut shape = shape_of(&self.objects, &target);
        if children.numeric && !shape.numeric {
            return false;
        }
        shape.depth = shape.depth.max(children.depth);
        shape.size = shape.size.saturating_add(children.size);
        shape.numeric = children.numeric;
        if check_limits(&self.limits, shape).is_err() {
            return false;
        }
        self.marks.pop();
        self.set_shape(self.stack.len() - 1, shape);
        true
    }

    /// Runs one opcode whose arguments start at `cursor.pos`. Returns `true` after `STOP`.
    /// Reads every argument before it changes any state, so `Incomplete` leaves the machine as
    /// it was.
    #[inline(never)]
    fn execute(&mut self, opcode: u8, cursor: &mut Cursor) -> Step<bool> {
        match opcode {
            op::MARK => self.marks.push(self.stack.len()),
            op::STOP => {
                self.pop()?;
                self.tape.op(tape::STOP);
                return Ok(true);
            }
            op::POP => self.load_pop()?,
            op::POP_MARK => {
                let start = self.pop_mark()?;
                let count = self.stack.len().saturating_sub(start);
                self.stack.truncate(start);
                if count > 0 {
                    self.tape.op_count(tape::POP, count);
                }
            }
            op::DUP => {
                self.require(1)?;
                if let Some(entry) = self.share(self.stack.len() - 1) {
                    self.stack.push(entry);
                }
                self.tape.op(tape::DUP);
            }
            op::BINFLOAT => {
                self.tape.float(cursor.array()?);
                self.push_scalar(Kind::Float);
            }
            op::BININT => {
                let value = i32::from_le_bytes(cursor.array()?);
                self.push_int32(value);
            }
            op::BININT1 => {
                let value = cursor.byte()?;
                self.push_int32(i32::from(value));
            }
            op::BININT2 => {
                let value = u16::from_le_bytes(cursor.array()?);
                self.push_int32(i32::from(value));
            }
            op::LONG1 => {
                let len = cursor.byte()?;
                let bytes = cursor.take(u64::from(len))?;
                ints::push_twos_complement(bytes, &mut self.tape);
                self.push_scalar(Kind::Int);
            }
            op::LONG4 => {
                let len = i32::from_le_bytes(cursor.array()?);
                let len = u64::try_from(len)
                    .map_err(|_| Halt::Fail("LONG pickle has negative byte count".into()))?;
                let bytes = cursor.take(len)?;
                ints::push_twos_complement(bytes, &mut self.tape);
                self.push_scalar(Kind::Int);
            }
            op::NONE => {
                self.tape.op(tape::NONE);
                self.push_scalar(Kind::None);
            }
            op::NEWTRUE => self.push_bool(true),
            op::NEWFALSE => self.push_bool(false),
            op::BINSTRING => {
                let len = cursor.u32_le()?;
                self.load_python2_str(cursor, u64::from(len))?;
            }
            op::SHORT_BINSTRING => {
                let len = cursor.byte()?;
                self.load_python2_str(cursor, u64::from(len))?;
            }
            op::SHORT_BINUNICODE => {
                let len = cursor.byte()?;
                self.load_unicode(cursor, u64::from(len))?;
            }
            op::BINUNICODE => {
                let len = cursor.u32_le()?;
                self.load_unicode(cursor, u64::from(len))?;
            }
            op::BINUNICODE8 => {
                let len = cursor.u64_le()?;
                self.load_unicode(cursor, len)?;
            }
            op::SHORT_BINBYTES => {
                let len = cursor.byte()?;
                self.load_input_view(cursor, u64::from(len), tape::BYTES, Kind::Bytes)?;
            }
            op::BINBYTES => {
                let len = cursor.u32_le()?;
                self.load_input_view(cursor, u64::from(len), tape::BYTES, Kind::Bytes)?;
            }
            op::BINBYTES8 => {
                let len = cursor.u64_le()?;
                self.load_input_view(cursor, len, tape::BYTES, Kind::Bytes)?;
            }
            op::BYTEARRAY8 => {
                let len = cursor.u64_le()?;
                self.load_input_view(cursor, len, tape::BYTEARRAY, Kind::ByteArray)?;
            }
            op::EMPTY_LIST => self.push_empty(tape::EMPTY_LIST, Kind::List),
            op::EMPTY_DICT => self.push_empty(tape::EMPTY_DICT, Kind::Dict),
            op::EMPTY_SET => self.push_empty(tape::EMPTY_SET, Kind::Set),
            op::EMPTY_TUPLE => {
                self.collapse(self.stack.len(), Kind::Tuple)?;
                self.tape.op_count(tape::TUPLE, 0);
            }
            op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                let count = usize::from(opcode - op::TUPLE1) + 1;
                self.require(count)?;
                self.collapse(self.stack.len() - count, Kind::Tuple)?;
                self.tape.op_count(tape::TUPLE, count);
            }
            op::TUPLE => self.load_from_mark(tape::TUPLE, Kind::Tuple)?,
            op::LIST => self.load_from_mark(tape::LIST, Kind::List)?,
            op::FROZENSET => {
                let start = self.marks.last().copied().unwrap_or(usize::MAX);
                for item in self.stack.get(start..).unwrap_or(&[]) {
                    self.check_key(item, "frozenset item")?;
                }
                self.load_from_mark(tape::FROZENSET, Kind::FrozenSet)?;
            }
            op::DICT => {
                let start = self.pop_mark()?;
                let items = self.stack.get(start..).unwrap_or(&[]);
                if items.len() % 2 != 0 {
                    return fail("Odd number of items for DICT");
                }
                for key in items.iter().step_by(2) {
                    self.check_key(key, "dict key")?;
                }
                let pairs = items.len() / 2;
                self.collapse(start, Kind::Dict)?;
                self.tape.op_count(tape::DICT, pairs);
            }
            op::APPEND => {
                self.require(2)?;
                let target = self.stack.len() - 2;
                self.add_to(target, opcode)?;
            }
            op::APPENDS | op::SETITEMS | op::ADDITEMS => {
                let start = self.pop_mark()?;
                if start <= self.fence() || start > self.stack.len() {
                    return Err(self.underflow());
                }
                if start < self.stack.len() {
                    self.add_to(start - 1, opcode)?;
                }
            }
            op::SETITEM => {
                self.require(3)?;
                let target = self.stack.len() - 3;
                self.add_to(target, opcode)?;
            }
            op::BUILD => {
                self.require(2)?;
                let state = self.pop()?;
                let target = self.stack.len() - 1;
                let kind = self.top()?.kind;
                if kind.is_object() {
                    self.grow(target, self.stack.len(), Some(&state))?;
                    self.tape.op(tape::BUILD);
                } else if state.kind == Kind::None {
                    // CPython sets no attributes for a `None` state, whatever the target.
                    self.tape.op_count(tape::POP, 1);
                } else {
                    return fail(format!(
                        "Cannot apply BUILD state to a {}",
                        kind.python_name()
                    ));
                }
            }
            op::BINPUT => {
                let key = cursor.byte()?;
                self.require(1)?;
                self.memo_put(u64::from(key))?;
            }
            op::LONG_BINPUT => {
                let key = cursor.u32_le()?;
                self.require(1)?;
                self.memo_put(u64::from(key))?;
            }
            op::MEMOIZE => {
                self.require(1)?;
                self.memo_put(u64::from(self.memo.len()))?;
            }
            op::BINGET => {
                let key = cursor.byte()?;
                self.memo_get(u64::from(key))?;
            }
            op::LONG_BINGET => {
                let key = cursor.u32_le()?;
                self.memo_get(u64::from(key))?;
            }
            op::STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                if module.kind != Kind::Str || name.kind != Kind::Str {
                    return fail("STACK_GLOBAL requires str");
                }
                self.tape.op(tape::GLOBAL);
                self.push_scalar(Kind::Global);
            }
            op::OBJ => {
                let start = self.pop_mark()?;
                if self.stack.len() <= start {
                    return Err(self.underflow());
                }
                let class = self.stack.get(start).map_or(Kind::None, |e| e.kind);
                if !class.is_object() {
                    return fail(format!(
                        "OBJ class argument must be a global or an object, not {}",
                        class.python_name()
                    ));
                }
                let count = self.stack.len() - start - 1;
                self.collapse(start, Kind::Object)?;
                self.tape.op_count(tape::OBJ, count);
            }
            op::REDUCE => {
                self.require(2)?;
                let args = self.stack.len() - 1;
                let callable = self.stack.len() - 2;
                self.expect_callable(callable, "REDUCE callable")?;
                self.expect_kind(args, Kind::Tuple, "REDUCE arguments")?;
                self.collapse(callable, Kind::Object)?;
                self.tape.op(tape::REDUCE);
            }
            op::NEWOBJ => {
                self.require(2)?;
                let args = self.stack.len() - 1;
                let class = self.stack.len() - 2;
                self.expect_kind(args, Kind::Tuple, "NEWOBJ arguments")?;
                self.expect_callable(class, "NEWOBJ class argument")?;
                self.collapse(class, Kind::Object)?;
                self.tape.op(tape::NEWOBJ);
            }
            op::NEWOBJ_EX => {
                self.require(3)?;
                let kwargs = self.stack.len() - 1;
                let args = self.stack.len() - 2;
                let class = self.stack.len() - 3;
                self.expect_callable(class, "NEWOBJ_EX class argument")?;
                self.expect_kind(args, Kind::Tuple, "NEWOBJ_EX args argument")?;
                self.expect_kind(kwargs, Kind::Dict, "NEWOBJ_EX kwargs argument")?;
                self.collapse(class, Kind::Object)?;
                self.tape.op(tape::NEWOBJ_EX);
            }
            op::NEXT_BUFFER => {
                self.tape.op(tape::NEXT_BUFFER);
                self.tape.offset(cursor.absolute(cursor.start));
                self.push_scalar(Kind::Buffer);
            }
            op::READONLY_BUFFER => {
                let entry = self.top()?;
                match entry.kind {
                    Kind::ByteArray => {
                        if let Some(top) = self.stack.last_mut() {
                            *top = Entry::scalar(Kind::Buffer);
                        }
                    }
                    Kind::Bytes | Kind::Buffer | Kind::Object | Kind::Persistent => {}
                    other => {
                        return fail(format!(
                            "A bytes-like object is required, not {}",
                            other.python_name()
                        ))
                    }
                }
                self.tape.op(tape::READONLY_BUFFER);
            }
            op::PROTO => {
                let protocol = cursor.byte()?;
                if protocol > op::HIGHEST_PROTOCOL {
                    return fail(format!("Unsupported pickle protocol: {}", protocol));
                }
                self.tape.op_count(tape::PROTO, usize::from(protocol));
            }
            op::FRAME => {
                let len = cursor.u64_le()?;
                let remaining = self.total_len.saturating_sub(cursor.absolute(cursor.pos));
                if len > remaining {
                    return fail(format!(
                        "FRAME length {} exceeds the {} remaining bytes",
                        len, remaining
                    ));
                }
            }
            // Protocol 0 text opcodes, rare ones and invalid ones: compiled apart, so that the
            // first decode (V8 compiles each function when it first runs) and this one stay small.
            _ => return self.execute_rare(opcode, cursor),
        }
        Ok(false)
    }

    /// The opcodes of [`Decoder::execute`] that CPython writes only at protocol 0 or rarely, and
    /// the bytes that are no opcode.
    #[inline(never)]
    fn execute_rare(&mut self, opcode: u8, cursor: &mut Cursor) -> Step<bool> {
        match opcode {
            op::FLOAT => {
                let line = cursor.line()?;
                let value = parse_float_text(line).map_err(|m| Halt::Fail(m.into()))?;
                self.tape.float(value.to_be_bytes());
                self.push_scalar(Kind::Float);
            }
            op::INT => self.load_int(cursor)?,
            op::LONG => self.load_long(cursor)?,
            op::STRING => {
                let line = cursor.line()?;
                let body = match line {
                    [quote @ (b'\'' | b'"'), body @ .., last] if last == quote => body,
                    _ => return fail("The STRING opcode argument must be quoted"),
                };
                let bytes = text::escape_decode(body).map_err(Halt::Fail)?;
                self.push_python2_str(&bytes)?;
            }
            op::UNICODE => {
                let line = cursor.line()?;
                text::push_raw_unicode_escape(line, &mut self.tape).map_err(Halt::Fail)?;
                self.push_scalar(Kind::Str);
            }
            op::PUT => {
                let line = cursor.line()?;
                if line.is_empty() {
                    return fail(TRUNCATED);
                }
                self.require(1)?;
                let key = match ints::parse_python_int(line, false) {
                    Some(literal) if literal.negative && literal.magnitude() != Some(0) => {
                        return fail("Negative PUT argument")
                    }
                    Some(literal) => literal.magnitude().filter(|&key| key <= i64::MAX as u64),
                    None => return fail("Invalid PUT argument"),
                };
                self.memo_put(key.ok_or_else(|| Halt::Fail("PUT argument is too large".into()))?)?;
            }
            op::GET => {
                let line = cursor.line()?;
                if line.is_empty() {
                    return fail(TRUNCATED);
                }
                let literal = ints::parse_python_int(line, false)
                    .ok_or_else(|| Halt::Fail("Invalid GET argument".into()))?;
                match literal.magnitude() {
                    Some(key) if !literal.negative || key == 0 => self.memo_get(key)?,
                    _ => {
                        let sign = if literal.negative { "-" } else { "" };
                        let digits = String::from_utf8_lossy(&literal.digits);
                        return fail(format!("Memo value not found at index {}{}", sign, digits));
                    }
                }
            }
            op::GLOBAL => {
                let module = cursor.line()?;
                let name = cursor.line()?;
                let module = global_part(module, "module")?;
                let name = global_part(name, "name")?;
                self.tape
                    .str_utf8(module.as_bytes(), module.encode_utf16().count());
                self.tape
                    .str_utf8(name.as_bytes(), name.encode_utf16().count());
                self.tape.op(tape::GLOBAL);
                self.push_scalar(Kind::Global);
            }
            op::INST => {
                let module = cursor.line()?;
                let name = cursor.line()?;
                let start = self.pop_mark()?;
                for (part, what) in [(module, "module"), (name, "class name")] {
                    if part.is_empty() {
                        return fail(TRUNCATED);
                    }
                    if !part.is_ascii() {
                        return fail(format!("INST {} is not ASCII", what));
                    }
                }
                let count = self.stack.len().saturating_sub(start);
                self.collapse(start, Kind::Object)?;
                self.tape.str_utf8(module, module.len());
                self.tape.str_utf8(name, name.len());
                self.tape.op_count(tape::INST, count);
            }
            op::PERSID => {
                let line = cursor.line()?;
                if !line.is_ascii() {
                    return fail("Persistent IDs in protocol 0 must be ASCII strings");
                }
                self.tape.str_utf8(line, line.len());
                self.tape.op(tape::PERSID);
                self.tape.offset(cursor.absolute(cursor.start));
                self.push_scalar(Kind::Str);
                self.collapse(self.stack.len() - 1, Kind::Persistent)?;
            }
            op::BINPERSID => {
                self.require(1)?;
                self.collapse(self.stack.len() - 1, Kind::Persistent)?;
                self.tape.op(tape::BINPERSID);
                self.tape.offset(cursor.absolute(cursor.start));
            }
            op::EXT1 | op::EXT2 | op::EXT4 => {
                let code = match opcode {
                    op::EXT1 => i64::from(cursor.byte()?),
                    op::EXT2 => i64::from(u16::from_le_bytes(cursor.array()?)),
                    _ => i64::from(i32::from_le_bytes(cursor.array()?)),
                };
                if code <= 0 {
                    return fail("EXT specifies code <= 0");
                }
                self.tape.words.push(tape::EXT);
                self.tape.words.push(code as i32);
                self.tape.offset(cursor.absolute(cursor.start));
                self.push_scalar(Kind::Global);
            }
            _ => {
                let shown = if (0x20..=0x7e).contains(&opcode) && opcode != b'\'' && opcode != b'\\'
                {
                    format!("'{}'", char::from(opcode))
                } else {
                    format!("'\\x{:02x}'", opcode)
                };
                return fail(format!("Invalid load key, {}", shown));
            }
        }
        Ok(false)
    }

    #[inline(always)]
    fn push_int32(&mut self, value: i32) {
        self.tape.words.push(tape::INT32);
        self.tape.words.push(value);
        self.push_scalar(Kind::Int);
    }

    fn push_bool(&mut self, value: bool) {
        self.tape.op(if value { tape::TRUE } else { tape::FALSE });
        self.push_scalar(Kind::Bool);
    }

    fn push_empty(&mut self, code: i32, kind: Kind) {
        self.tape.op(code);
        self.stack.push(Entry {
            numeric: kind == Kind::List,
            ..Entry::new(kind, 1, 1)
        });
    }

    /// C's `load_pop`: a mark on top of the stack is what `POP` removes.
    fn load_pop(&mut self) -> Step {
        if self.marks.last() == Some(&self.stack.len()) {
            self.marks.pop();
            return Ok(());
        }
        self.pop()?;
        self.tape.op_count(tape::POP, 1);
        Ok(())
    }

    fn load_from_mark(&mut self, code: i32, kind: Kind) -> Step {
        let start = self.pop_mark()?;
        let count = self.stack.len().saturating_sub(start);
        self.collapse(start, kind)?;
        self.tape.op_count(code, count);
        Ok(())
    }

    /// `APPEND`, `APPENDS`, `SETITEM`, `SETITEMS`, `ADDITEMS`: adds `self.stack[target + 1..]`
    /// to the value at `target`.
    fn add_to(&mut self, target: usize, opcode: u8) -> Step {
        let entry = match self.stack.get(target) {
            Some(entry) => *entry,
            None => return Err(self.underflow()),
        };
        let count = self.stack.len() - target - 1;
        let (native, verb) = match opcode {
            op::APPEND | op::APPENDS => (Kind::List, "append to"),
            op::SETITEM | op::SETITEMS => (Kind::Dict, "set items on"),
            _ => (Kind::Set, "add items to"),
        };
        if entry.kind != native && !entry.kind.is_object() {
            let article = if entry.kind == Kind::Object {
                "an"
            } else {
                "a"
            };
            return fail(format!(
                "Cannot {} {} {}",
                verb,
                article,
                entry.kind.python_name()
            ));
        }
        let items = self.stack.get(target + 1..).unwrap_or(&[]);
        if native == Kind::Dict && count % 2 != 0 {
            return fail("Odd number of items for SETITEMS");
        }
        if entry.kind == Kind::Dict {
            for key in items.iter().step_by(2) {
                self.check_key(key, "dict key")?;
            }
        } else if entry.kind == Kind::Set {
            for item in items {
                self.check_key(item, "set item")?;
            }
        }
        self.grow(target, target + 1, None)?;
        self.stack.truncate(target + 1);
        match opcode {
            op::APPEND => self.tape.op(tape::APPEND),
            op::SETITEM => self.tape.op(tape::SETITEM),
            op::APPENDS => self.tape.op_count(tape::APPENDS, count),
            op::SETITEMS => self.tape.op_count(tape::SETITEMS, count / 2),
            _ => self.tape.op_count(tape::ADDITEMS, count),
        }
        Ok(())
    }

    fn expect_callable(&self, index: usize, what: &str) -> Step {
        let kind = self.stack.get(index).map_or(Kind::None, |e| e.kind);
        if !kind.is_object() {
            return fail(format!(
                "{} must be a global or an object, not {}",
                what,
                kind.python_name()
            ));
        }
        Ok(())
    }

    fn expect_kind(&self, index: usize, expected: Kind, what: &str) -> Step {
        let kind = self.stack.get(index).map_or(Kind::None, |e| e.kind);
        if kind != expected {
            return fail(format!(
                "{} must be a {}, not {}",
                what,
                expected.python_name(),
                kind.python_name()
            ));
        }
        Ok(())
    }

    /// Stores the top of the stack (which the caller has checked) under `key`.
    fn memo_put(&mut self, key: u64) -> Step {
        if self.memo_full(key) {
            return fail(format!(
                "Memo size exceeds the limit of {} entries",
                self.limits.max_memo
            ));
        }
        self.memo_store(key);
        Ok(())
    }

    /// Whether `key` would be a memo entry past `max_memo`.
    #[inline(always)]
    fn memo_full(&self, key: u64) -> bool {
        self.limits.max_memo != 0
            && self.memo.len() >= self.limits.max_memo
            && self.memo.get(key).is_none()
    }

    #[inline(always)]
    fn memo_store(&mut self, key: u64) {
        let entry = match self.share(self.stack.len().saturating_sub(1)) {
            Some(entry) => entry,
            None => return,
        };
        let slot = self.memo_store_value(key, entry);
        self.tape.op_count(tape::PUT, slot as usize);
    }

    /// Stores `entry` under `key`; returns its slot.
    #[inline(always)]
    fn memo_store_value(&mut self, key: u64, entry: Entry) -> u32 {
        match self.memo.get(key) {
            Some(slot) => {
                if let Some(value) = self.memo_values.get_mut(slot as usize) {
                    *value = entry;
                }
                slot
            }
            None => {
                self.memo_values.push(entry);
                self.memo.insert_new(key)
            }
        }
    }

    // The value is lent, not returned: a copy of a 16-byte `Entry` inside an `Option` is split
    // at its niche byte into overlapping moves that stall store forwarding on every `GET`.
    #[inline]
    fn memo_lookup(&self, key: u64) -> Option<(u32, &Entry)> {
        let slot = self.memo.get(key)?;
        self.memo_lookup_slot(slot)
    }

    #[inline]
    fn memo_lookup_slot(&self, slot: u32) -> Option<(u32, &Entry)> {
        Some((slot, self.memo_values.get(slot as usize)?))
    }

    /// Pushes the value of a slot that [`Decoder::memo_lookup`] found.
    #[inline]
    fn push_memo(&mut self, slot: u32) {
        if let Some(&entry) = self.memo_values.get(slot as usize) {
            self.stack.push(entry);
            self.tape.op_count(tape::GET, slot as usize);
        }
    }

    fn memo_get(&mut self, key: u64) -> Step {
        match self.memo_lookup(key) {
            Some((slot, _)) => {
                self.push_memo(slot);
                Ok(())
            }
            None => fail(format!("Memo value not found at index {}", key)),
        }
    }

    fn check_digits(&self, literal: &ints::IntLiteral) -> Step {
        let limit = self.limits.max_int_digits;
        if limit != 0 && literal.radix == 10 && literal.digits.len() > limit as usize {
            return fail(format!(
                "Integer text of {} digits exceeds the limit of {} digits",
                literal.digits.len(),
                limit
            ));
        }
        Ok(())
    }

    /// `INT`: C's `strtol` first (so `I010` is 8 and `I01`, `I00`, `I+1` are bools, as in
    /// CPython), then Python's `int(text, 0)`.
    fn load_int(&mut self, cursor: &mut Cursor) -> Step {
        let line = cursor.line()?;
        if line.is_empty() {
            return fail(TRUNCATED);
        }
        if let Some(value) = ints::parse_c_long(line) {
            if line.len() == 2 && (value == 0 || value == 1) {
                self.push_bool(value == 1);
            } else {
                self.tape.int(value);
                self.push_scalar(Kind::Int);
            }
            return Ok(());
        }
        let literal = ints::parse_python_int(line, true)
            .ok_or_else(|| Halt::Fail("Could not convert string to int".into()))?;
        self.check_digits(&literal)?;
        ints::push_literal(&literal, &mut self.tape);
        self.push_scalar(Kind::Int);
        Ok(())
    }

    /// `LONG`: Python's `int(text, 0)` after dropping one trailing `L`.
    fn load_long(&mut self, cursor: &mut Cursor) -> Step {
        let line = cursor.line()?;
        let digits = match line {
            [] => return fail(TRUNCATED),
            [rest @ .., b'L'] => rest,
            _ => line,
        };
        let literal = ints::parse_python_int(digits, true)
            .ok_or_else(|| Halt::Fail("Invalid literal for int() with base 0".into()))?;
        self.check_digits(&literal)?;
        ints::push_literal(&literal, &mut self.tape);
        self.push_scalar(Kind::Int);
        Ok(())
    }

    fn load_unicode(&mut self, cursor: &mut Cursor, len: u64) -> Step {
        let bytes = cursor.take(len)?;
        text::push_utf8_surrogatepass(bytes, &mut self.tape).map_err(Halt::Fail)?;
        self.push_scalar(Kind::Str);
        Ok(())
    }

    fn load_input_view(&mut self, cursor: &mut Cursor, len: u64, code: i32, kind: Kind) -> Step {
        let offset = cursor.skip(len)?;
        self.tape.input_view(code, offset, len);
        self.push_scalar(kind);
        Ok(())
    }

    fn load_python2_str(&mut self, cursor: &mut Cursor, len: u64) -> Step {
        if self.encoding == Encoding::Bytes {
            return self.load_input_view(cursor, len, tape::BYTES, Kind::Bytes);
        }
        let bytes = cursor.take(len)?;
        self.push_python2_str(bytes)
    }

    fn push_python2_str(&mut self, bytes: &[u8]) -> Step {
        let kind = match self.encoding {
            Encoding::Ascii => {
                if let Some(position) = bytes.iter().position(|&b| b >= 0x80) {
                    return fail(format!(
                        "Cannot decode a Python 2 str as ASCII: byte 0x{:02x} at position {} \
                         (the encoding option can be latin1 or bytes)",
                        bytes[position], position
                    ));
                }
                self.tape.str_utf8(bytes, bytes.len());
                Kind::Str
            }
            Encoding::Latin1 => {
                self.tape.str_latin1(bytes);
                Kind::Str
            }
            Encoding::Utf8 => {
                let text = core::str::from_utf8(bytes).map_err(|error| {
                    Halt::Fail(format!(
                        "Cannot decode a Python 2 str as UTF-8: invalid byte at position {}",
                        error.valid_up_to()
                    ))
                })?;
                self.tape.str_utf8(bytes, text.encode_utf16().count());
                Kind::Str
            }
            Encoding::Bytes => {
                self.tape.arena_bytes(bytes);
                Kind::Bytes
            }
        };
        self.push_scalar(kind);
        Ok(())
    }
}

/// The first `N` bytes of `args`, when there are that many.
#[inline]
fn fixed<const N: usize>(args: &[u8]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    out.copy_from_slice(args.get(..N)?);
    Some(out)
}

/// Whether `opcode` is one that [`Decoder::run`] reads runs of.
#[inline(always)]
fn starts_run(opcode: u8) -> bool {
    matches!(
        opcode,
        op::BININT1
            | op::BININT2
            | op::BININT
            | op::BINFLOAT
            | op::BINGET
            | op::LONG_BINGET
            | op::SHORT_BINUNICODE
            | op::BINUNICODE
    )
}

/// The int of a `BININT1`, `BININT2` or `BININT` whose argument starts `args`, and the
/// argument's length; `None` for any other opcode or an incomplete argument.
#[inline(always)]
fn binint(opcode: u8, args: &[u8]) -> Option<(i32, usize)> {
    Some(match opcode {
        op::BININT1 => (i32::from(*args.first()?), 1),
        op::BININT2 => (i32::from(u16::from_le_bytes(fixed(args)?)), 2),
        op::BININT => (i32::from_le_bytes(fixed(args)?), 4),
        _ => return None,
    })
}

fn shape_of(objects: &[Shape], entry: &Entry) -> Shape {
    let own = Shape {
        depth: entry.link,
        size: entry.size,
        numeric: entry.numeric,
    };
    if entry.shared {
        objects.get(entry.link as usize).copied().unwrap_or(own)
    } else {
        own
    }
}

fn check_limits(limits: &Limits, shape: Shape) -> Step {
    if limits.max_depth != 0 && shape.depth > limits.max_depth {
        return fail(format!(
            "Nesting depth exceeds the limit of {}",
            limits.max_depth
        ));
    }
    if limits.max_nodes != 0 && shape.size > limits.max_nodes {
        return fail(format!(
            "Output size exceeds the limit of {} nodes",
            limits.max_nodes
        ));
    }
    Ok(())
}

/// The entry of a new value made of `children`.
fn combine(objects: &[Shape], limits: &Limits, kind: Kind, children: &[Entry]) -> Step<Entry> {
    let mut depth = 0u32;
    let mut size = 1u64;
    let mut unhashable = kind.is_unhashable();
    for child in children {
        let shape = shape_of(objects, child);
        depth = depth.max(shape.depth);
        size = size.saturating_add(shape.size);
        unhashable |= kind == Kind::Tuple && child.unhashable;
    }
    let shape = Shape {
        depth: depth.saturating_add(1),
        size,
        numeric: false,
    };
    check_limits(limits, shape)?;
    let mut entry = Entry::new(kind, shape.depth, shape.size);
    entry.unhashable = unhashable;
    Ok(entry)
}

/// A `GLOBAL` line: non-empty strict UTF-8.
fn global_part<'a>(line: &'a [u8], what: &str) -> Step<&'a str> {
    if line.is_empty() {
        return fail(TRUNCATED);
    }
    core::str::from_utf8(line)
        .map_err(|_| Halt::Fail(format!("GLOBAL {} is not valid UTF-8", what)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stack_entry_is_16_bytes() {
        assert_eq!(core::mem::size_of::<super::Entry>(), 16);
    }
}
