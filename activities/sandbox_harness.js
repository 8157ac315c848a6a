// Runs inside the sandbox (node --disallow-code-generation-from-strings): loads the candidate's JavaScript,
// runs the question's tests, prints one JSON line, like sandbox_harness.py.
//
// The code runs in a fresh V8 context with nothing in it but the language itself: no require, no process, no
// Buffer, no timers, and no eval or Function from strings. Values cross in and out as JSON text only, so no host
// object leaks in. That context is not the security boundary (V8 contexts are not); the OS limits around the
// process are: no network namespace, an unprivileged user, rlimits and a wall-clock kill.
"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");

const work = process.argv[2];
const job = JSON.parse(fs.readFileSync(path.join(work, "job.json"), "utf8"));
const write = (line) => process.stdout.write(line + "\n");
const PER_TEST_MS = 2000;

function describe(error) {
  const stack = String((error && error.stack) || "");
  const match = stack.match(/solution\.js:(\d+)/);
  return {
    type: String((error && error.name) || "Error"),
    message: String((error && error.message) || error).slice(0, 300),
    line: match ? Number(match[1]) : null,
  };
}

// Deep equality of JSON values, so [0, 1] equals [0, 1] and object key order does not matter.
function same(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => same(a[k], b[k]));
  }
  return a === b;
}

const context = vm.createContext({}, { codeGeneration: { strings: false, wasm: false } });
try {
  new vm.Script(job.code, { filename: "solution.js" }).runInContext(context, { timeout: PER_TEST_MS });
  if (vm.runInContext(`typeof ${job.function}`, context) !== "function") {
    throw new ReferenceError(`${job.function} is not defined as a function`);
  }
} catch (error) {
  write(JSON.stringify({ loaded: false, error: describe(error), results: [] }));
  process.exit(0);
}

const results = [];
for (const test of job.tests) {
  const started = process.hrtime.bigint();
  let outcome;
  try {
    context.__args = JSON.stringify(test.args);
    const text = vm.runInContext(`JSON.stringify(${job.function}(...JSON.parse(__args)))`, context, {
      timeout: PER_TEST_MS,
    });
    const actual = text === undefined ? undefined : JSON.parse(text);
    outcome = { passed: same(actual, test.expected), actual: String(text).slice(0, 200) };
  } catch (error) {
    outcome = { passed: false, error: describe(error) };
  }
  outcome.name = test.name;
  outcome.ms = Number(process.hrtime.bigint() - started) / 1e6;
  results.push(outcome);
}
write(JSON.stringify({ loaded: true, error: null, results }));
