/**
 * Runs the pinned reference Python (made by `tests/python/setup.sh`, which `deno task test`
 * runs first) so that tests can ask CPython and Python lazyscribe what the truth is.
 */

const root = new URL("../", import.meta.url);

/** Which reference interpreter: numpy 2 + pandas + lazyscribe, or the numpy 1.x one. */
export type PythonEnv = "default" | "numpy1";

/** The path of the interpreter of a reference virtualenv. */
export function pythonPath(env: PythonEnv = "default"): string {
  const dir = env === "numpy1" ? ".cache/venv-numpy1" : ".cache/venv";
  return new URL(`${dir}/bin/python`, root).pathname;
}

/** The output of a finished Python process. */
export interface PythonResult {
  stdout: Uint8Array;
  stderr: string;
}

/**
 * Runs a Python script (source text) with arguments and optional standard input, and
 * throws with Python's stderr when it fails.
 */
export async function runPython(
  source: string,
  args: string[] = [],
  options: { stdin?: Uint8Array; env?: PythonEnv; cwd?: string } = {},
): Promise<PythonResult> {
  const command = new Deno.Command(pythonPath(options.env), {
    args: ["-c", source, ...args],
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    cwd: options.cwd,
  });
  const child = command.spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const errText = new TextDecoder().decode(stderr);
  if (code !== 0) {
    throw new Error(`python exited with ${code}:\n${errText}`);
  }
  return { stdout, stderr: errText };
}

/** Runs a Python script and parses its standard output as JSON. */
export async function pythonJson<T = unknown>(
  source: string,
  args: string[] = [],
  options: { stdin?: Uint8Array; env?: PythonEnv; cwd?: string } = {},
): Promise<T> {
  const { stdout } = await runPython(source, args, options);
  return JSON.parse(new TextDecoder().decode(stdout)) as T;
}
