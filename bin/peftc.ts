#!/usr/bin/env node
// Launcher. Dawn prints driver notices straight to the process's stderr from
// native code ("maxDynamicUniformBuffersPerPipelineLayout artificially
// reduced ..."), which JavaScript cannot intercept in-process. Commands that
// touch the GPU therefore run in a child whose stderr passes through a filter;
// the rest run here directly.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const GPU_COMMANDS = new Set(["doctor", "compile", "train", "eval", "merge", "combine", "generate"]);
const NATIVE_NOISE = [
  /^Warning: max\w+ artificially reduced from \d+ to \d+/,
  /^Warning: Couldn't load Vulkan/,
  /^\s+at operator\(\) \(.*\.cpp:\d+\)$/,
  /^MESA: error: XDG_RUNTIME_DIR/,
];

const command = process.argv[2];
if (command && GPU_COMMANDS.has(command) && !process.env.PEFTC_CHILD) {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./cli.js", import.meta.url)), ...process.argv.slice(2)], {
    stdio: ["inherit", "inherit", "pipe"],
    env: { ...process.env, PEFTC_CHILD: "1", ...(process.stderr.isTTY ? { PEFTC_STDERR_TTY: "1" } : {}) },
  });
  const lines = createInterface({ input: child.stderr! });
  lines.on("line", (line) => {
    if (!NATIVE_NOISE.some((noise) => noise.test(line))) process.stderr.write(line + "\n");
  });
  // Ctrl-C reaches the child through the terminal; the launcher waits for it.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("close", (code, signal) => {
    lines.close();
    if (signal) {
      // Die the way the child died, so that the caller sees the same signal.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exitCode = code ?? 1;
  });
} else {
  await import("./cli.js");
}
