# Counts the leaves of a Deno test report (colours stripped): tests without steps, and steps
# without sub-steps. A result line ("name ... ok") is a parent when the result line before it
# was indented deeper, since Deno reports a test's steps before the test. Lines the tests print
# themselves (between the output markers) are skipped. Prints "passed failed".
/^------- output -------$/ { inside = 1; next }
/^----- output end -----$/ { inside = 0; next }
inside { next }
match($0, /^ *[^ ].* \.\.\. (ok|FAILED|ignored)( |$)/) {
  indent = match($0, /[^ ]/) - 1
  result = $0
  sub(/.* \.\.\. /, "", result)
  sub(/ .*/, "", result)
  if (!(seen && last_indent > indent)) {
    if (result == "ok") passed++
    else if (result == "FAILED") failed++
  }
  seen = 1
  last_indent = indent
}
END { print passed + 0, failed + 0 }
