// Errors a user can cause and fix. Everything that reaches the command line as
// a UserError prints as one clear message and exit code 1; anything else is a
// bug in peftc.
export class UserError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}
