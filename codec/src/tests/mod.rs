//! Tests of the whole machine: CPython's vectors (`vectors.txt`, made by `make_vectors.py`)
//! decoded through a tape materializer that mirrors `codec/decode.ts`, rendered the way the
//! Python script renders CPython's result; windows split at every size; truncation at every
//! byte; limits and error messages.

mod materialize;

use crate::{Decoder, Encoding, Limits, Status};
use materialize::{materialize, render, Output};

/// Decodes `data` feeding windows of `window` bytes (or more when the decoder asks for it).
fn decode_windows(
    data: &[u8],
    encoding: Encoding,
    limits: Limits,
    window: usize,
) -> Result<Output, (String, u64)> {
    let mut decoder = Decoder::new(data.len() as u64, encoding, limits);
    let mut output = Output::default();
    let mut offset = 0u64;
    let mut need = 0u64;
    for _ in 0..10_000_000 {
        let start = offset as usize;
        let len = window.max(need as usize).min(data.len() - start);
        let status = decoder.step(&data[start..start + len], offset);
        if status == Status::Error {
            assert!(decoder.tape.words.is_empty());
            return Err((decoder.error.clone(), decoder.need));
        }
        output.append(&decoder.tape);
        if status == Status::Done {
            return Ok(output);
        }
        offset = decoder.next_offset();
        need = decoder.need;
        assert!(offset <= data.len() as u64);
    }
    panic!("the decoder did not finish");
}

fn decode(data: &[u8]) -> Result<Output, (String, u64)> {
    decode_windows(data, Encoding::Ascii, Limits::default(), data.len().max(1))
}

fn error_of(data: &[u8], limits: Limits) -> String {
    match decode_windows(data, Encoding::Ascii, limits, data.len().max(1)) {
        Ok(output) => panic!(
            "{:?} decoded to {}",
            data,
            render(&materialize(&output, data))
        ),
        Err((message, _)) => message,
    }
}

struct Vector {
    encoding: Encoding,
    data: Vec<u8>,
    expected: String,
}

fn unhex(text: &str) -> Vec<u8> {
    if text == "-" {
        return Vec::new();
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The committed vectors, or those of the file named by `LSA_VECTORS` (see `make_vectors.py
/// --fuzz`).
fn vectors() -> Vec<Vector> {
    let text = match std::env::var("LSA_VECTORS") {
        Ok(path) => std::fs::read_to_string(path).unwrap(),
        Err(_) => include_str!("vectors.txt").to_string(),
    };
    text.lines()
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            let encoding = Encoding::from_abi(parts.next().unwrap().parse().unwrap()).unwrap();
            let data = unhex(parts.next().unwrap());
            let expected = parts.next().unwrap().to_string();
            Vector {
                encoding,
                data,
                expected,
            }
        })
        .collect()
}

#[test]
fn cpython_vectors_decode_like_cpython() {
    let mut failures = Vec::new();
    let all = vectors();
    for vector in &all {
        let got = decode_windows(
            &vector.data,
            vector.encoding,
            Limits::default(),
            vector.data.len().max(1),
        );
        let got = match got {
            Ok(output) => render(&materialize(&output, &vector.data)),
            Err((message, _)) => format!("!{}", message),
        };
        let agree = if vector.expected.starts_with('!') {
            got.starts_with('!')
        } else {
            got == vector.expected
        };
        if !agree {
            failures.push(format!(
                "{:?} {}\n  expected {}\n  got      {}",
                vector.encoding,
                hex(&vector.data),
                vector.expected,
                got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    assert!(all.len() > 800);
}

fn hex(data: &[u8]) -> String {
    let text: String = data.iter().map(|b| format!("{:02x}", b)).collect();
    if text.len() > 200 {
        format!("{}…", &text[..200])
    } else {
        text
    }
}

/// Window sizes to try for an input of `len` bytes: all of them for small inputs.
fn window_sizes(len: usize) -> Vec<usize> {
    if len <= 400 {
        (1..=len).collect()
    } else {
        let mut sizes: Vec<usize> = (1..=64).collect();
        sizes.extend((65..len).step_by(len / 50 + 1));
        sizes
    }
}

#[test]
fn every_window_size_gives_the_same_tape() {
    for vector in vectors() {
        let whole = decode_windows(
            &vector.data,
            vector.encoding,
            Limits::default(),
            vector.data.len().max(1),
        );
        for window in window_sizes(vector.data.len()) {
            let split = decode_windows(&vector.data, vector.encoding, Limits::default(), window);
            match (&whole, &split) {
                (Ok(a), Ok(b)) => assert!(
                    a.without_runs() == b.without_runs(),
                    "window {} of {}",
                    window,
                    hex(&vector.data)
                ),
                (Err(a), Err(b)) => assert_eq!(a, b, "window {} of {}", window, hex(&vector.data)),
                _ => panic!(
                    "window {} changes the outcome of {}",
                    window,
                    hex(&vector.data)
                ),
            }
        }
    }
}

#[test]
fn every_truncation_is_an_error() {
    for vector in vectors() {
        if vector.expected.starts_with('!') || vector.data.len() > 3000 {
            continue;
        }
        let stop = match vector.data.iter().rposition(|&b| b == b'.') {
            Some(stop) => stop,
            None => continue,
        };
        for cut in 0..stop.min(vector.data.len()) {
            let data = &vector.data[..cut];
            for window in [1, 7, data.len().max(1)] {
                let result = decode_windows(data, vector.encoding, Limits::default(), window);
                assert!(result.is_err(), "{} decoded", hex(data));
            }
        }
    }
}

#[test]
fn messages_say_what_and_where() {
    let none = Limits::default();
    assert_eq!(error_of(b"", none), "Pickle data was truncated at byte 0");
    assert_eq!(error_of(b"N", none), "Pickle data was truncated at byte 1");
    assert_eq!(
        error_of(b"Na.", none),
        "Unpickling stack underflow at byte 1 (APPEND)"
    );
    assert_eq!(
        error_of(b"]N(a.", none),
        "Unexpected MARK found at byte 3 (APPEND)"
    );
    assert_eq!(
        error_of(b"Nt.", none),
        "Could not find MARK at byte 1 (TUPLE)"
    );
    assert_eq!(
        error_of(b"N\xff.", none),
        "Invalid load key, '\\xff' at byte 1"
    );
    assert_eq!(error_of(b"Nz.", none), "Invalid load key, 'z' at byte 1");
    assert_eq!(
        error_of(b"\x80\x06N.", none),
        "Unsupported pickle protocol: 6 at byte 0 (PROTO)"
    );
    assert_eq!(
        error_of(b"h\x05.", none),
        "Memo value not found at index 5 at byte 0 (BINGET)"
    );
    assert_eq!(
        error_of(b"Np-1\n.", none),
        "Negative PUT argument at byte 1 (PUT)"
    );
    assert_eq!(
        error_of(b"NK\x01\x93.", none),
        "STACK_GLOBAL requires str at byte 3 (STACK_GLOBAL)"
    );
    assert_eq!(
        error_of(b"X\x05\x00\x00\x00ab", none),
        "Pickle data was truncated at byte 0 (BINUNICODE)"
    );
    assert_eq!(
        error_of(b"S'a\n.", none),
        "The STRING opcode argument must be quoted at byte 0 (STRING)"
    );
    assert_eq!(
        error_of(b"S'\\'\n.", none),
        "Trailing \\ in string at byte 0 (STRING)"
    );
    assert_eq!(
        error_of(b"N)R.", none),
        "REDUCE callable must be a global or an object, not NoneType at byte 2 (REDUCE)"
    );
    assert_eq!(
        error_of(b"}]]s.", none),
        "Unhashable dict key of type list at byte 3 (SETITEM)"
    );
    assert_eq!(
        error_of(b"(]t]d.", none),
        "Could not find MARK at byte 4 (DICT)"
    );
    assert_eq!(
        error_of(b"](]u.", none),
        "Cannot set items on a list at byte 3 (SETITEMS)"
    );
    assert_eq!(
        error_of(b"\x95\x00\x00\x00\x00\x00\x00\x01\x00N.", none),
        "FRAME length 281474976710656 exceeds the 2 remaining bytes at byte 0 (FRAME)"
    );
    assert_eq!(
        error_of(b"U\x01\xe9.", none),
        "Cannot decode a Python 2 str as ASCII: byte 0xe9 at position 0 (the encoding option can be latin1 or bytes) at byte 0 (SHORT_BINSTRING)"
    );
    // The offset of the failing opcode travels in `need`.
    assert_eq!(decode(b"]Na0a.").unwrap_err().1, 4);
}

#[test]
fn limits_name_themselves() {
    let depth = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(decode_windows(b"]]]aa.", Encoding::Ascii, depth, 64).is_ok());
    assert_eq!(
        error_of(b"]]]]aaa.", depth),
        "Nesting depth exceeds the limit of 3 at byte 6 (APPEND)"
    );
    assert_eq!(
        error_of(b"((((tttt.", depth),
        "Nesting depth exceeds the limit of 3 at byte 7 (TUPLE)"
    );
    let memo = Limits {
        max_memo: 2,
        ..Limits::default()
    };
    assert!(decode_windows(b"N\x94\x94q\x00q\x01.", Encoding::Ascii, memo, 64).is_ok());
    assert_eq!(
        error_of(b"N\x94\x94\x94.", memo),
        "Memo size exceeds the limit of 2 entries at byte 3 (MEMOIZE)"
    );
    let digits = Limits {
        max_int_digits: 5,
        ..Limits::default()
    };
    assert!(decode_windows(b"I12345\n.", Encoding::Ascii, digits, 64).is_ok());
    assert!(decode_windows(b"L0x123456789abcdef0123\n.", Encoding::Ascii, digits, 64).is_ok());
    assert_eq!(
        error_of(b"L123456L\n.", digits),
        "Integer text of 6 digits exceeds the limit of 5 digits at byte 0 (LONG)"
    );
}

/// `L(i) = [L(i-1), L(i-1)]`, 40 levels, each list memoized before it is filled (as CPython
/// does): 2**40 leaves in 500 bytes.
fn memo_dag_bomb() -> Vec<u8> {
    let mut data = b"\x80\x04]r\x00\x00\x00\x00".to_vec();
    for level in 1..40u32 {
        data.extend_from_slice(b"]r");
        data.extend_from_slice(&level.to_le_bytes());
        for _ in 0..2 {
            data.push(b'j');
            data.extend_from_slice(&(level - 1).to_le_bytes());
        }
        data.push(b'e');
        data.insert(data.len() - 11, b'(');
    }
    data.push(b'.');
    data
}

#[test]
fn shared_reference_expansion_hits_max_nodes() {
    let data = memo_dag_bomb();
    assert!(decode(&data).is_ok());
    let nodes = Limits {
        max_nodes: 1_000_000,
        ..Limits::default()
    };
    let message = error_of(&data, nodes);
    assert!(
        message.starts_with("Output size exceeds the limit of 1000000 nodes at byte"),
        "{}",
        message
    );
}

#[test]
fn sparse_memo_keys_allocate_nothing() {
    let output = decode(
        b"NrX\xff\xff\xffjX\xff\xff\xff\x86p9223372036854775807\ng9223372036854775807\n\x86.",
    )
    .unwrap();
    assert!(output.words.contains(&crate::tape::GET));
    assert!(decode(b"Np9223372036854775808\n.").is_err());
}

#[test]
fn a_mebibyte_long4_is_linear() {
    let mut data = vec![0x80, 0x02, 0x8b];
    let len: u32 = 1 << 20;
    data.extend_from_slice(&len.to_le_bytes());
    data.extend((1..len).map(|i| (i * 7 + 1) as u8));
    data.push(0x7f);
    data.push(b'.');
    let started = std::time::Instant::now();
    let output = decode(&data).unwrap();
    assert!(started.elapsed().as_secs_f64() < 2.0);
    assert_eq!(output.text.len(), 2 << 20);
    assert_eq!(output.text[0], b'7');
}

#[test]
fn payloads_are_views_and_windows_skip_them() {
    let mut data = b"\x80\x05]\x94(\x8e".to_vec();
    data.extend_from_slice(&100_000u64.to_le_bytes());
    data.extend(std::iter::repeat(7u8).take(100_000));
    data.extend_from_slice(b"\x96\x02\x00\x00\x00\x00\x00\x00\x00ab\x98e.");
    let mut decoder = Decoder::new(data.len() as u64, Encoding::Ascii, Limits::default());
    assert_eq!(decoder.step(&data[..20], 0), Status::More);
    // The BINBYTES8 header was enough: the next window starts after its payload.
    assert_eq!(decoder.next_offset(), 14 + 100_000);
    assert_eq!(
        decoder.tape.words[decoder.tape.words.len() - 5..],
        [crate::tape::BYTES, 14, 0, 100_000, 0]
    );
    let rest = &data[14 + 100_000..];
    assert_eq!(decoder.step(rest, 14 + 100_000), Status::Done);
    let rendered = render(&materialize(&decode(&data).unwrap(), &data));
    assert!(
        rendered.starts_with("[b:0707") && rendered.ends_with(", mv:6162]"),
        "{}",
        rendered
    );
    // A declared length past the input is an error at once, not a request for more input.
    let mut decoder = Decoder::new(1 << 40, Encoding::Ascii, Limits::default());
    assert_eq!(
        decoder.step(b"\x8e\x00\x00\x00\x00\x00\x01\x00\x00", 0),
        Status::Error
    );
    assert_eq!(
        decoder.error,
        "Pickle data was truncated at byte 0 (BINBYTES8)"
    );
}

#[test]
fn python2_strings_follow_the_encoding() {
    let data = b"U\x02\xc3\xa9T\x01\x00\x00\x00\xffS'\\xe9'\n\x87.";
    let render_with = |encoding| {
        decode_windows(data, encoding, Limits::default(), 64)
            .map(|output| render(&materialize(&output, data)))
            .map_err(|e| e.0)
    };
    assert!(render_with(Encoding::Ascii).is_err());
    assert_eq!(
        render_with(Encoding::Latin1).unwrap(),
        "('\\u00c3\\u00a9', '\\u00ff', '\\u00e9')"
    );
    assert_eq!(
        render_with(Encoding::Bytes).unwrap(),
        "(b:c3a9, b:ff, b:e9)"
    );
    assert!(render_with(Encoding::Utf8)
        .unwrap_err()
        .contains("Cannot decode a Python 2 str as UTF-8"));
}

#[test]
fn lines_longer_than_a_window_grow_it() {
    let mut data = b"V".to_vec();
    data.extend(std::iter::repeat(b'x').take(50_000));
    data.extend_from_slice(b"\n.");
    let mut decoder = Decoder::new(data.len() as u64, Encoding::Ascii, Limits::default());
    assert_eq!(decoder.step(&data[..1000], 0), Status::More);
    assert_eq!((decoder.next_offset(), decoder.need), (0, 4096));
    assert_eq!(decoder.step(&data[..4096], 0), Status::More);
    assert_eq!(decoder.need, 8192);
    assert_eq!(decoder.step(&data, 0), Status::Done);
}

#[test]
fn misuse_of_windows_is_an_error() {
    let mut decoder = Decoder::new(3, Encoding::Ascii, Limits::default());
    assert_eq!(decoder.step(b"N", 1), Status::Error);
    let mut decoder = Decoder::new(2, Encoding::Ascii, Limits::default());
    assert_eq!(decoder.step(b"N.x", 0), Status::Error);
    let mut decoder = Decoder::new(2, Encoding::Ascii, Limits::default());
    assert_eq!(decoder.step(b"N.", 0), Status::Done);
    assert_eq!(decoder.step(b"", 2), Status::Error);
}

/// A tiny deterministic generator for the no-panic sweep.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_vectors_never_panic() {
    let all = vectors();
    let mut random = Xorshift(0x9e37_79b9_7f4a_7c15);
    let limits = Limits {
        max_depth: 50,
        max_memo: 100,
        max_int_digits: 100,
        max_nodes: 10_000,
    };
    for round in 0..20_000 {
        let base = &all[(random.next() % all.len() as u64) as usize].data;
        let mut data = base.clone();
        for _ in 0..1 + random.next() % 4 {
            let choice = random.next();
            let position = if data.is_empty() {
                0
            } else {
                (choice >> 8) as usize % data.len()
            };
            match choice % 4 {
                0 if !data.is_empty() => data[position] = (choice >> 40) as u8,
                1 => data.insert(position, (choice >> 40) as u8),
                2 if !data.is_empty() => {
                    data.remove(position);
                }
                _ => data.truncate(position),
            }
        }
        let window = 1 + (round % 17);
        if let Ok(output) = decode_windows(
            &data,
            Encoding::from_abi((round % 4) as u32).unwrap(),
            limits,
            window,
        ) {
            render(&materialize(&output, &data));
        }
    }
}

/// The tape words of a decode in one window, after `PROTO 4`.
fn words_of(data: &[u8]) -> Vec<i32> {
    decode(data).unwrap().words[2..].to_vec()
}

#[test]
fn a_batch_is_one_instruction_into_its_list() {
    use crate::tape::*;
    // [1, 2, 256, -1]: the run goes into the list, whose MARK and APPENDS leave no trace.
    let ints = b"\x80\x04]\x94(K\x01K\x02M\x00\x01J\xff\xff\xff\xffe.";
    assert_eq!(
        words_of(ints),
        [EMPTY_LIST, PUT, 0, APPEND_INT32S, 4, 1, 2, 256, -1, STOP]
    );
    // Float slots keep BINFLOAT's big-endian bytes.
    let floats = b"\x80\x04](G?\xf8\x00\x00\x00\x00\x00\x00G\xc0\x00\x00\x00\x00\x00\x00\x00e.";
    let output = decode(floats).unwrap();
    assert_eq!(output.words[2..], [EMPTY_LIST, APPEND_FLOATS, 2, STOP]);
    let bytes: Vec<[u8; 8]> = output.floats.iter().map(|f| f.to_ne_bytes()).collect();
    assert_eq!(bytes, [1.5f64.to_be_bytes(), (-2.0f64).to_be_bytes()]);
    // A list's references to itself are a cycle, not growth.
    assert_eq!(
        words_of(b"\x80\x04]\x94(h\x00h\x00e."),
        [EMPTY_LIST, PUT, 0, APPEND_GETS, 2, 0, 0, STOP]
    );
    // Memoized strings: STR and PUT pairs, rewritten into one instruction by the APPENDS.
    assert_eq!(
        words_of(b"\x80\x04](\x8c\x02ab\x94\x8c\x01c\x94e\x8c\x01d\x94\x86."),
        [
            EMPTY_LIST,
            APPEND_STRS,
            2,
            2,
            0,
            1,
            1,
            STR,
            1,
            PUT,
            2,
            TUPLE,
            2,
            STOP
        ]
    );
    // A dict's string keys and values: one instruction into the dict.
    assert_eq!(
        words_of(b"\x80\x04}\x94(\x8c\x01a\x94\x8c\x01b\x94u."),
        [EMPTY_DICT, PUT, 0, SETITEMS_STRS, 1, 1, 1, 1, 2, STOP]
    );
    // Without its APPENDS a run is pushed; a run of one is the value alone.
    assert_eq!(
        words_of(b"\x80\x04(K\x01K\x02tK\x03\x86."),
        [INT32S, 2, 1, 2, TUPLE, 2, INT32, 3, TUPLE, 2, STOP]
    );
}

#[test]
fn frames_inside_a_run_are_skipped() {
    use crate::tape::*;
    let data = b"\x80\x04](K\x01\x95\x04\x00\x00\x00\x00\x00\x00\x00K\x02e.";
    assert_eq!(words_of(data), [EMPTY_LIST, APPEND_INT32S, 2, 1, 2, STOP]);
    // A FRAME longer than the rest of the input ends the run, and the main loop reports it.
    let lying = b"\x80\x04](K\x01\x95\x40\x00\x00\x00\x00\x00\x00\x00K\x02e.";
    assert_eq!(
        error_of(lying, Limits::default()),
        "FRAME length 64 exceeds the 4 remaining bytes at byte 6 (FRAME)"
    );
}

#[test]
fn a_run_cut_by_the_window_waits_for_the_next_one() {
    use crate::tape::*;
    let data = b"\x80\x04]\x94(K\x01K\x02K\x03e.";
    let mut decoder = Decoder::new(data.len() as u64, Encoding::Ascii, Limits::default());
    assert_eq!(decoder.step(&data[..9], 0), Status::More);
    // The run starts at byte 5; the window ended inside it.
    assert_eq!(decoder.next_offset(), 5);
    assert_eq!(decoder.tape.words, [PROTO, 4, EMPTY_LIST, PUT, 0]);
    assert_eq!(decoder.step(&data[5..], 5), Status::Done);
    assert_eq!(decoder.tape.words, [APPEND_INT32S, 3, 1, 2, 3, STOP]);
    // A run that starts its window is read as far as the window goes.
    let split = decode_windows(data, Encoding::Ascii, Limits::default(), 1).unwrap();
    assert!(split.words.contains(&INT32));
}

#[test]
fn only_numeric_lists_take_runs_of_numbers_directly() {
    use crate::tape::*;
    // A list that got a string takes its later ints through the stack.
    let mixed = b"\x80\x04](X\x01\x00\x00\x00aK\x01K\x02e(K\x03K\x04e.";
    assert_eq!(
        words_of(mixed),
        [EMPTY_LIST, STR, 1, INT32S, 2, 1, 2, APPENDS, 3, INT32S, 2, 3, 4, APPENDS, 2, STOP]
    );
    // Ints and floats keep a list numeric, through the memo too; a memo reference does not.
    let numbers = b"\x80\x04]\x94(K\x01K\x02e0h\x00(G?\xf0\x00\x00\x00\x00\x00\x00G?\xf0\x00\x00\x00\x00\x00\x00e(h\x00h\x00e(K\x05K\x06e.";
    assert_eq!(
        words_of(numbers),
        [
            EMPTY_LIST,
            PUT,
            0,
            APPEND_INT32S,
            2,
            1,
            2,
            POP,
            1,
            GET,
            0,
            APPEND_FLOATS,
            2,
            APPEND_GETS,
            2,
            0,
            0,
            INT32S,
            2,
            5,
            6,
            APPENDS,
            2,
            STOP
        ]
    );
}

#[test]
fn a_run_over_a_limit_fails_at_its_appends() {
    let nodes = Limits {
        max_nodes: 3,
        ..Limits::default()
    };
    assert_eq!(
        error_of(b"\x80\x04](K\x01K\x02K\x03e.", nodes),
        "Output size exceeds the limit of 3 nodes at byte 10 (APPENDS)"
    );
    assert!(decode_windows(b"\x80\x04](K\x01K\x02e.", Encoding::Ascii, nodes, 64).is_ok());
}
