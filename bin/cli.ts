// The peftc command line: parses arguments and calls the library. Exit codes:
// 0 success, 1 a user error (bad spec, bad model, bad data), 2 a bad command line.
import { Command, CommanderError } from "commander";
import { UserError } from "../compiler/errors.js";
import { releaseDevice } from "../runtime/device.js";
import { processIo } from "./io.js";
import { fileSystemErrorMessage } from "../runtime/files/outputs.js";
import { registerCommands } from "./commands/index.js";
import { ReportedError } from "./commands/spec.js";

const VERSION = "0.1.0";

// A reader that closes early (`peftc doctor | head -3`) is not an error of ours: stop writing to it.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command("peftc")
    .description("compile and run parameter-efficient fine-tuning specs on WebGPU")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerCommands(program, processIo, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end in a CommanderError with exit code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    throw error;
  }
  return exitCode;
}

main(process.argv.slice(2))
  .catch((error: unknown) => {
    if (error instanceof ReportedError) return 1;
    if (error instanceof UserError) {
      process.stderr.write(`peftc: error: ${error.message}\n`);
      if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
      return 1;
    }
    // The disk refused (permissions, a full disk, a path through a file): the user's to fix, not a bug.
    const refused = fileSystemErrorMessage(error);
    if (refused) {
      process.stderr.write(`peftc: error: ${refused}\n`);
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`peftc: internal error: ${message}\n`);
    if (process.env.PEFTC_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    else process.stderr.write("  this is a bug in peftc; PEFTC_DEBUG=1 shows the stack trace\n");
    return 1;
  })
  .then(async (code) => {
    // dawn-node keeps Node alive while a device exists: release it, then exit.
    await releaseDevice();
    // process.exit drops what a pipe has not taken yet (a large --emit graph was cut short): drain both streams first.
    await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((done) => (stream.writable ? stream.write("", () => done()) : done()))));
    process.exit(code);
  });
